import { wholeNumberField } from './answer-fields.ts';
import { SqsError, type SqsErrorContext } from './sqs-error.ts';

/** A GetQueueAttributes answer: SQS sends every value as a string. */
export type QueueAttributes = Partial<Record<string, string>>;

export const COUNT_ATTRIBUTES = [
  'ApproximateNumberOfMessages',
  'ApproximateNumberOfMessagesNotVisible',
  'ApproximateNumberOfMessagesDelayed',
] as const;

export interface QueueCounts {
  visible: number;
  inFlight: number;
  delayed: number;
}

export interface RedrivePolicy {
  deadLetterTargetArn: string;
  maxReceiveCount: number;
}

export function readCounts(attributes: QueueAttributes, context: SqsErrorContext): QueueCounts {
  const [visible, inFlight, delayed] = COUNT_ATTRIBUTES.map((name) =>
    wholeNumberField(attributes[name], name, context),
  ) as [number, number, number];
  return { visible, inFlight, delayed };
}

/** Absent when the queue has no redrive policy. SQS writes maxReceiveCount as a number or a string. */
export function readRedrivePolicy(
  attributes: QueueAttributes,
  context: SqsErrorContext,
): RedrivePolicy | undefined {
  const text = attributes['RedrivePolicy'];
  if (text === undefined || text === '') return undefined;
  let policy: unknown;
  try {
    policy = JSON.parse(text);
  } catch (error) {
    throw new SqsError('SQS_MALFORMED_RESPONSE', context, `RedrivePolicy is not JSON: ${text}`, {
      cause: error,
    });
  }
  const { deadLetterTargetArn, maxReceiveCount } = (policy ?? {}) as Record<string, unknown>;
  const count = Number(maxReceiveCount);
  if (typeof deadLetterTargetArn !== 'string' || !Number.isInteger(count) || count < 1) {
    throw new SqsError(
      'SQS_MALFORMED_RESPONSE',
      context,
      `RedrivePolicy lacks deadLetterTargetArn or maxReceiveCount: ${text}`,
    );
  }
  return { deadLetterTargetArn, maxReceiveCount: count };
}

/** SQS reports FifoQueue only for FIFO queues. */
export function readFifo(attributes: QueueAttributes): boolean {
  return attributes['FifoQueue'] === 'true';
}
