import { SqsError, type SqsErrorContext } from './sqs-error.ts';
import type { AbortCause } from './request-signals.ts';

/** The JSON protocol's name for a missing queue, and the query protocol's. */
const QUEUE_NOT_FOUND_CODES = new Set(['QueueDoesNotExist', 'AWS.SimpleQueueService.NonExistentQueue']);

/** SQS's code for an SDK service error (its name), or the socket's code for a network error. */
function errorCode(error: unknown): string | undefined {
  if (!(error instanceof Error)) return undefined;
  const { code } = error as { code?: unknown };
  return typeof code === 'string' ? code : error.name;
}

/**
 * The SqsError for a failed request. Which limit fired decides first: the SDK reports every abort
 * the same way, but a caller's budget, a hung server and a shutdown mean different things.
 */
export function requestError(
  error: unknown,
  context: SqsErrorContext,
  abortCause: AbortCause | undefined,
  timeoutMs: number,
): SqsError {
  if (error instanceof SqsError) return error;
  const options = { cause: error };
  switch (abortCause) {
    case 'caller':
      return new SqsError('SQS_ABORTED', context, "the caller's signal aborted the request", options);
    case 'timeout':
      return new SqsError('SQS_TIMEOUT', context, `no answer within ${timeoutMs} ms`, options);
    case 'closed':
      return new SqsError('SQS_CLOSED', context, 'the back end was closed during the request', options);
    case undefined:
      break;
  }
  const awsCode = errorCode(error);
  const about = { ...context, ...(awsCode !== undefined && { awsCode }) };
  if (awsCode !== undefined && QUEUE_NOT_FOUND_CODES.has(awsCode)) {
    return new SqsError(
      'SQS_QUEUE_NOT_FOUND',
      about,
      'the queue does not exist (check its URL, region and account)',
      options,
    );
  }
  const detail = error instanceof Error ? error.message : String(error);
  return new SqsError('SQS_REQUEST_FAILED', about, `${awsCode ?? 'request failed'}: ${detail}`, options);
}
