import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { ProducerConfig } from '../../../../src/adapter/config.ts';
import { createProducer } from '../../../../src/adapter/factory.ts';

const sqs = {
  queueUrl: 'http://127.0.0.1:1/000000000000/q',
  region: 'us-east-1',
  waitTimeSeconds: 10,
  visibilityTimeoutSeconds: 60,
  maxDeliveries: 5,
};

/** Refused before any back end is built, naming the variable to fix; never a silent default. */
describe('createProducer refuses what it cannot build', () => {
  it.each([
    [
      'an unknown primary',
      { primary: 'kafka', publishTimeoutMs: 3_000, sqs },
      'QUEUE_TYPE',
      'unknown back end "kafka"; expected sqs or redis',
    ],
    [
      'an unknown fallback',
      { primary: 'sqs', fallback: 'nats', publishTimeoutMs: 3_000, sqs },
      'QUEUE_FALLBACK_TYPE',
      'unknown back end "nats"; expected sqs or redis',
    ],
    [
      'a fallback equal to the primary',
      { primary: 'sqs', fallback: 'sqs', publishTimeoutMs: 3_000, sqs },
      'QUEUE_FALLBACK_TYPE',
      'must differ from QUEUE_TYPE (both are sqs)',
    ],
    [
      'a fallback without its settings',
      { primary: 'sqs', fallback: 'redis', publishTimeoutMs: 3_000, sqs },
      'REDIS_ADDRESS',
      'the redis back end is used but has no redis settings',
    ],
    [
      'a primary without its settings',
      { primary: 'sqs', publishTimeoutMs: 3_000 },
      'SQS_QUEUE_URL',
      'the sqs back end is used but has no sqs settings',
    ],
  ])('%s', (_case, config, variable, message) => {
    const build = (): unknown =>
      createProducer(config as ProducerConfig, { logger: pino({ level: 'silent' }) });
    expect(build).toThrow(
      expect.objectContaining({ name: 'ConfigError', problems: [{ variable, message }] }),
    );
  });
});
