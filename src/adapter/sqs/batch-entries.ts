import type { BatchResultErrorEntry } from '@aws-sdk/client-sqs';
import type { ReceivedMessage, SettleFailure } from '../types.ts';
import { SqsError, type SqsErrorContext } from './sqs-error.ts';

/** SQS's limit for every batch call and for MaxNumberOfMessages. */
export const SQS_BATCH_LIMIT = 10;

export function chunks<T>(items: readonly T[], size = SQS_BATCH_LIMIT): T[][] {
  const result: T[][] = [];
  for (let start = 0; start < items.length; start += size) result.push(items.slice(start, start + size));
  return result;
}

/** Entry ids are positions in the chunk: unique per request, and SQS's answer maps back by them. */
export const entryId = (index: number): string => String(index);

export interface BatchAnswer {
  Successful?: readonly { Id?: string | undefined }[] | undefined;
  Failed?: readonly BatchResultErrorEntry[] | undefined;
}

/**
 * The messages of a chunk that SQS did not confirm: those it reported as failed, with its code, and
 * those its answer does not mention at all (treated as not settled, never as settled).
 */
export function unconfirmed(
  chunk: readonly ReceivedMessage[],
  answer: BatchAnswer,
  context: SqsErrorContext,
): SettleFailure[] {
  const succeeded = new Set((answer.Successful ?? []).map((entry) => entry.Id));
  const failed = new Map((answer.Failed ?? []).map((entry) => [entry.Id, entry]));
  return chunk.flatMap((message, index): SettleFailure[] => {
    const id = entryId(index);
    const about = { ...context, messageId: message.messageId };
    const refusal = failed.get(id);
    if (refusal) {
      const fault = refusal.SenderFault ? 'sender fault' : 'SQS fault';
      const error = new SqsError(
        'SQS_BATCH_ENTRY_FAILED',
        { ...about, ...(refusal.Code !== undefined && { awsCode: refusal.Code }) },
        `SQS refused the entry: ${refusal.Code ?? 'no code'} (${fault}): ${refusal.Message ?? 'no message'}`,
      );
      return [{ message, error }];
    }
    if (succeeded.has(id)) return [];
    return [
      {
        message,
        error: new SqsError('SQS_MALFORMED_RESPONSE', about, `SQS's answer does not mention entry ${id}`),
      },
    ];
  });
}
