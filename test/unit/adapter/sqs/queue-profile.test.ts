import { describe, expect, it } from 'vitest';
import { preflightWarnings, type PreflightFacts } from '../../../../src/adapter/sqs/queue-profile.ts';

const queueUrl = 'http://127.0.0.1:1/000000000000/webhooks';
const dlq = { url: 'http://127.0.0.1:1/000000000000/dlq', arn: 'arn:aws:sqs:us-east-1:000000000000:dlq' };
const other = {
  url: 'http://127.0.0.1:1/000000000000/other',
  arn: 'arn:aws:sqs:us-east-1:000000000000:other',
};
const redrive = (maxReceiveCount: number, target = dlq.arn): PreflightFacts['redrivePolicy'] => ({
  deadLetterTargetArn: target,
  maxReceiveCount,
});

describe('preflightWarnings', () => {
  it.each<{ why: string; facts: Omit<PreflightFacts, 'queueUrl' | 'maxDeliveries'>; codes: string[] }>([
    {
      why: 'a redrive policy that leaves the consumer room to dead-letter with a reason',
      facts: { redrivePolicy: redrive(5), deadLetterQueue: dlq },
      codes: [],
    },
    {
      why: 'no dead-letter queue at all',
      facts: { redrivePolicy: undefined, deadLetterQueue: undefined },
      codes: ['SQS_NO_DEAD_LETTER_QUEUE', 'SQS_NO_REDRIVE_POLICY'],
    },
    {
      why: 'a configured dead-letter queue but no redrive backstop',
      facts: { redrivePolicy: undefined, deadLetterQueue: dlq },
      codes: ['SQS_NO_REDRIVE_POLICY'],
    },
    {
      why: 'SQS redriving before the consumer reaches its limit',
      facts: { redrivePolicy: redrive(4), deadLetterQueue: dlq },
      codes: ['SQS_REDRIVE_BEFORE_MAX_DELIVERIES'],
    },
    {
      why: 'dead outcomes and redrive landing in different queues',
      facts: { redrivePolicy: redrive(5), deadLetterQueue: other },
      codes: ['SQS_SPLIT_DEAD_LETTER_QUEUES'],
    },
  ])('$why → $codes', ({ facts, codes }) => {
    const warnings = preflightWarnings({ ...facts, queueUrl, maxDeliveries: 5 });
    expect(warnings.map((w) => w.code)).toEqual(codes);
    for (const warning of warnings) expect(warning.message).toContain(queueUrl);
  });
});
