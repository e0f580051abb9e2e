import type { RedrivePolicy } from './queue-attributes.ts';

/**
 * Findings of `SqsBackend.verify()` that do not stop the back end but that the operator's
 * preflight reports (or gates on):
 * - `SQS_NO_DEAD_LETTER_QUEUE`: neither SQS_DLQ_URL nor a redrive policy; `dead` outcomes will fail.
 * - `SQS_NO_REDRIVE_POLICY`: nothing moves a message whose consumer crashes on every attempt; it is
 *   received again and again until the retention period deletes it.
 * - `SQS_REDRIVE_BEFORE_MAX_DELIVERIES`: SQS moves a message to its dead-letter queue (without a
 *   reason) before the consumer's own limit would dead-letter it with one.
 * - `SQS_SPLIT_DEAD_LETTER_QUEUES`: explicit `dead` outcomes and SQS's redrive land in different
 *   queues; both must be watched and swept.
 */
export type PreflightWarningCode =
  | 'SQS_NO_DEAD_LETTER_QUEUE'
  | 'SQS_NO_REDRIVE_POLICY'
  | 'SQS_REDRIVE_BEFORE_MAX_DELIVERIES'
  | 'SQS_SPLIT_DEAD_LETTER_QUEUES';

export interface PreflightWarning {
  code: PreflightWarningCode;
  message: string;
}

export interface DeadLetterQueue {
  url: string;
  arn: string;
}

/** What the operator's preflight needs to know about the queue. */
export interface SqsQueueProfile {
  queueUrl: string;
  queueArn: string;
  /** MessageRetentionPeriod: how long SQS keeps an unconsumed message. */
  retentionSeconds: number;
  /** The queue's default; this back end asks for its configured timeout on every receive. */
  visibilityTimeoutSeconds: number;
  redrivePolicy: RedrivePolicy | undefined;
  /** Where explicit `dead` outcomes go: the configured queue, else the redrive policy's target. */
  deadLetterQueue: DeadLetterQueue | undefined;
  warnings: PreflightWarning[];
}

export interface PreflightFacts {
  queueUrl: string;
  redrivePolicy: RedrivePolicy | undefined;
  deadLetterQueue: DeadLetterQueue | undefined;
  /** The consumer dead-letters a message it would retry once it was delivered this often. */
  maxDeliveries: number;
}

export function preflightWarnings(facts: PreflightFacts): PreflightWarning[] {
  const { queueUrl, redrivePolicy, deadLetterQueue, maxDeliveries } = facts;
  const warnings: PreflightWarning[] = [];
  if (deadLetterQueue === undefined) {
    warnings.push({
      code: 'SQS_NO_DEAD_LETTER_QUEUE',
      message: `${queueUrl} has no dead-letter queue: set SQS_DLQ_URL or a redrive policy, or dead outcomes fail`,
    });
  }
  if (redrivePolicy === undefined) {
    warnings.push({
      code: 'SQS_NO_REDRIVE_POLICY',
      message: `${queueUrl} has no redrive policy: a message whose consumer crashes every time is received until its retention period deletes it`,
    });
  } else if (redrivePolicy.maxReceiveCount < maxDeliveries) {
    warnings.push({
      code: 'SQS_REDRIVE_BEFORE_MAX_DELIVERIES',
      message: `${queueUrl} redrives after ${redrivePolicy.maxReceiveCount} receives, before the consumer dead-letters with a reason after ${maxDeliveries}`,
    });
  }
  if (
    redrivePolicy !== undefined &&
    deadLetterQueue !== undefined &&
    deadLetterQueue.arn !== redrivePolicy.deadLetterTargetArn
  ) {
    warnings.push({
      code: 'SQS_SPLIT_DEAD_LETTER_QUEUES',
      message: `dead outcomes go to ${deadLetterQueue.url} but the redrive policy of ${queueUrl} sends to ${redrivePolicy.deadLetterTargetArn}`,
    });
  }
  return warnings;
}
