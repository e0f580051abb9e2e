import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { ConsumerConfig } from '../../../../src/adapter/config.ts';
import { createConsumer } from '../../../../src/adapter/factory.ts';

const base: ConsumerConfig = {
  queueType: 'sqs',
  consumerName: 'worker-0',
  idempotency: {
    connection: { endpoint: { kind: 'standalone', address: { host: '127.0.0.1', port: 6379 } } },
    keyPrefix: 'idem:',
    leaseMs: 30_000,
    doneRetentionMs: 21 * 24 * 3_600_000,
  },
  workers: {
    count: 4,
    batchSize: 10,
    prefetch: 0,
    handlerTimeoutMs: 60_000,
    shutdownGraceMs: 20_000,
    defaultRetryDelayMs: 5_000,
  },
};

const sqs = {
  queueUrl: 'http://127.0.0.1:1/000000000000/q',
  region: 'us-east-1',
  waitTimeSeconds: 10,
  visibilityTimeoutSeconds: 60,
  maxDeliveries: 5,
};

/** The configs operators get wrong; each is refused before any connection opens, naming its variable. */
describe('createConsumer refuses what it cannot build', () => {
  it.each([
    [
      'an unknown queue type',
      { ...base, queueType: 'kafka' },
      'QUEUE_TYPE',
      'unknown back end "kafka"; expected sqs or redis',
    ],
    ['sqs without SQS settings', base, 'SQS_QUEUE_URL', 'the sqs back end is used but has no sqs settings'],
    [
      'redis without Redis settings',
      { ...base, queueType: 'redis', sqs },
      'REDIS_ADDRESS',
      'the redis back end is used but has no redis settings',
    ],
    [
      'dual with only SQS settings',
      { ...base, queueType: 'dual', sqs },
      'REDIS_ADDRESS',
      'the redis back end is used but has no redis settings',
    ],
  ])('%s', (_case, config, variable, message) => {
    const build = (): unknown =>
      createConsumer(config as ConsumerConfig, () => Promise.resolve({ kind: 'ack' }), {
        logger: pino({ level: 'silent' }),
      });
    expect(build).toThrow(
      expect.objectContaining({ name: 'ConfigError', problems: [{ variable, message }] }),
    );
  });
});
