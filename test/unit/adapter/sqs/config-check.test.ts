import { describe, expect, it } from 'vitest';
import type { SqsConfig } from '../../../../src/adapter/config.ts';
import { checkConfig } from '../../../../src/adapter/sqs/config-check.ts';

const valid: SqsConfig = {
  queueUrl: 'https://sqs.eu-west-1.amazonaws.com/123456789012/webhooks',
  region: 'eu-west-1',
  waitTimeSeconds: 20,
  visibilityTimeoutSeconds: 60,
  maxDeliveries: 5,
};

describe('checkConfig', () => {
  it('accepts a standard queue with SQS-sized settings', () => {
    expect(() => {
      checkConfig(valid);
    }).not.toThrow();
  });

  it.each<{ why: string; change: Partial<SqsConfig>; code: string; named: string }>([
    {
      why: 'a FIFO queue',
      change: { queueUrl: `${valid.queueUrl}.fifo` },
      code: 'SQS_FIFO_QUEUE',
      named: 'FIFO queues are not supported',
    },
    {
      why: 'a FIFO dead-letter queue',
      change: { deadLetterQueueUrl: `${valid.queueUrl}-dlq.fifo` },
      code: 'SQS_FIFO_QUEUE',
      named: '-dlq.fifo',
    },
    {
      why: 'a queue URL that is no URL',
      change: { queueUrl: 'webhooks' },
      code: 'SQS_INVALID_CONFIG',
      named: 'queueUrl "webhooks"',
    },
    {
      why: 'a long poll SQS refuses',
      change: { waitTimeSeconds: 21 },
      code: 'SQS_INVALID_CONFIG',
      named: 'waitTimeSeconds is 21',
    },
    {
      why: 'a visibility timeout of 0, which redelivers every message at once',
      change: { visibilityTimeoutSeconds: 0 },
      code: 'SQS_INVALID_CONFIG',
      named: 'visibilityTimeoutSeconds is 0',
    },
    {
      why: 'a visibility timeout beyond 12 h',
      change: { visibilityTimeoutSeconds: 43_201 },
      code: 'SQS_INVALID_CONFIG',
      named: 'visibilityTimeoutSeconds is 43201',
    },
    { why: 'no region', change: { region: '' }, code: 'SQS_INVALID_CONFIG', named: 'region is empty' },
  ])('refuses $why', ({ change, code, named }) => {
    const check = (): void => {
      checkConfig({ ...valid, ...change });
    };
    expect(check).toThrow(named);
    expect(check).toThrow(expect.objectContaining({ code, operation: 'configure' }));
  });
});
