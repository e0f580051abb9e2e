import type { SettleFailure } from '../types.ts';

/**
 * Codes of the SQS back end's errors:
 * - `SQS_INVALID_CONFIG`: the configuration cannot work (a malformed queue URL, a wait or visibility
 *   time outside what SQS accepts). Raised when the back end is built.
 * - `SQS_FIFO_QUEUE`: the queue (or its dead-letter queue) is FIFO. Consuming SQS and Redis side by
 *   side cannot keep per-group order; use a standard queue.
 * - `SQS_QUEUE_NOT_FOUND`: SQS says the queue does not exist (wrong URL, region or account).
 * - `SQS_NO_DEAD_LETTER_QUEUE`: a message was to be dead-lettered, but there is neither a configured
 *   dead-letter queue (`SQS_DLQ_URL`) nor a redrive policy on the queue. The message stays in the
 *   queue and comes back after its visibility timeout.
 * - `SQS_INVALID_MESSAGE`: a message was refused before sending: SQS would reject its attributes.
 * - `SQS_REQUEST_FAILED`: SQS (or the network) refused a request; `awsCode` says why.
 * - `SQS_BATCH_ENTRY_FAILED`: one entry of a batch call failed while the others succeeded.
 * - `SQS_KEEPALIVE_FAILED`: some messages could not be kept invisible; `failures` names them. Another
 *   consumer may receive them once their visibility timeout ends.
 * - `SQS_DEAD_LETTER_DELETE_FAILED`: the copy reached the dead-letter queue but the original could not
 *   be deleted; it will be delivered again (and may be dead-lettered twice).
 * - `SQS_MALFORMED_RESPONSE`: an answer lacks a field SQS always sends (a proxy or emulator in between).
 * - `SQS_TIMEOUT`: no answer within the back end's request budget.
 * - `SQS_ABORTED`: the caller's AbortSignal fired first. A publish aborted this way may still have
 *   been accepted by SQS; the delivery id lets consumers drop the duplicate.
 * - `SQS_CLOSED`: the back end was closed before or during the call.
 */
export type SqsErrorCode =
  | 'SQS_INVALID_CONFIG'
  | 'SQS_FIFO_QUEUE'
  | 'SQS_QUEUE_NOT_FOUND'
  | 'SQS_NO_DEAD_LETTER_QUEUE'
  | 'SQS_INVALID_MESSAGE'
  | 'SQS_REQUEST_FAILED'
  | 'SQS_BATCH_ENTRY_FAILED'
  | 'SQS_KEEPALIVE_FAILED'
  | 'SQS_DEAD_LETTER_DELETE_FAILED'
  | 'SQS_MALFORMED_RESPONSE'
  | 'SQS_TIMEOUT'
  | 'SQS_ABORTED'
  | 'SQS_CLOSED';

export type SqsOperation =
  | 'configure'
  | 'publish'
  | 'receive'
  | 'ack'
  | 'keepAlive'
  | 'retryLater'
  | 'deadLetter'
  | 'ping'
  | 'stats'
  | 'verify'
  | 'deleteQueue';

/** Where an error happened: every SQS error names its operation and queue. */
export interface SqsErrorContext {
  operation: SqsOperation;
  queueUrl: string;
  /** The SQS MessageId concerned, when the error is about one message. */
  messageId?: string;
  /** SQS's own error code (`ReceiptHandleIsInvalid`, `AccessDenied`, …) or a socket error code. */
  awsCode?: string;
}

export class SqsError extends Error {
  readonly code: SqsErrorCode;
  readonly operation: SqsOperation;
  readonly queueUrl: string;
  readonly messageId: string | undefined;
  readonly awsCode: string | undefined;
  /** For `SQS_KEEPALIVE_FAILED`: each message that lost its reservation, with its own error. */
  readonly failures: readonly SettleFailure[];

  constructor(
    code: SqsErrorCode,
    context: SqsErrorContext,
    detail: string,
    options?: ErrorOptions & { failures?: readonly SettleFailure[] },
  ) {
    const subject = context.messageId === undefined ? '' : ` (message ${context.messageId})`;
    super(`${context.operation} on ${context.queueUrl}${subject}: ${detail}`, options);
    this.name = 'SqsError';
    this.code = code;
    this.operation = context.operation;
    this.queueUrl = context.queueUrl;
    this.messageId = context.messageId;
    this.awsCode = context.awsCode;
    this.failures = options?.failures ?? [];
  }
}

export function fifoQueueError(context: SqsErrorContext): SqsError {
  return new SqsError(
    'SQS_FIFO_QUEUE',
    context,
    'FIFO queues are not supported: consuming SQS and Redis side by side cannot keep per-group order; use a standard queue',
  );
}
