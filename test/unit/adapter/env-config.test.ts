import { describe, expect, it } from 'vitest';
import {
  parseConsumerEnv,
  parseProducerEnv,
  type Environment,
  type ParseContext,
} from '../../../src/adapter/env-config.ts';

const context: ParseContext = {
  fileExists: (path) => path.startsWith('/etc/tls/'),
  hostname: () => 'worker-host',
};

const consumerBase: Environment = {
  QUEUE_TYPE: 'dual',
  REDIS_ADDRESS: 'redis.internal:6379',
  SQS_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/webhooks',
  AWS_REGION: 'eu-west-1',
};

const producerBase: Environment = {
  QUEUE_TYPE: 'redis',
  QUEUE_FALLBACK_TYPE: 'sqs',
  REDIS_ADDRESS: 'redis.internal:6379',
  SQS_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/webhooks',
  AWS_REGION: 'eu-west-1',
};

describe('consumer configuration from the environment', () => {
  it('builds a dual consumer with defaults and the idempotency store on the queue Redis', () => {
    const result = parseConsumerEnv({ ...consumerBase, POD_NAME: 'worker-7d9f-abcde' }, context);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.config.queueType).toBe('dual');
    expect(result.config.redis).toMatchObject({
      stream: 'github-webhooks',
      group: 'webhook-workers',
      consumerName: 'worker-7d9f-abcde',
      blockMs: 2_000,
      connection: { endpoint: { kind: 'standalone', address: { host: 'redis.internal', port: 6379 } } },
    });
    expect(result.config.sqs).toMatchObject({ region: 'eu-west-1', waitTimeSeconds: 10 });
    expect(result.config.idempotency.connection).toEqual(result.config.redis?.connection);
    expect(result.config.workers).toMatchObject({ count: 10, batchSize: 10, prefetch: 0 });
  });

  it('uses the host name as consumer name when POD_NAME is unset', () => {
    const result = parseConsumerEnv({ ...consumerBase, QUEUE_TYPE: 'redis' }, context);
    expect(result.ok && result.config.redis?.consumerName).toBe('worker-host');
  });

  it('keeps the idempotency store apart when IDEMPOTENCY_REDIS_* is set, with Sentinel and TLS', () => {
    const result = parseConsumerEnv(
      {
        QUEUE_TYPE: 'sqs',
        SQS_QUEUE_URL: consumerBase['SQS_QUEUE_URL'],
        AWS_REGION: 'eu-west-1',
        IDEMPOTENCY_REDIS_SENTINEL_ENABLED: 'true',
        IDEMPOTENCY_REDIS_SENTINEL_MASTER_NAME: 'idem',
        IDEMPOTENCY_REDIS_SENTINEL_ADDRESSES: 's1:26379, s2:26379',
        IDEMPOTENCY_REDIS_USERNAME: 'worker',
        IDEMPOTENCY_REDIS_PASSWORD: 'hunter2',
        IDEMPOTENCY_REDIS_TLS_ENABLED: 'true',
        IDEMPOTENCY_REDIS_TLS_CA_FILE: '/etc/tls/ca.crt',
      },
      context,
    );
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.config.redis).toBeUndefined();
    expect(result.config.idempotency.connection).toEqual({
      endpoint: {
        kind: 'sentinel',
        masterName: 'idem',
        sentinels: [
          { host: 's1', port: 26379 },
          { host: 's2', port: 26379 },
        ],
      },
      username: 'worker',
      password: 'hunter2',
      tls: { caFile: '/etc/tls/ca.crt' },
    });
  });

  it('clamps a prefetch above the handler slots and says why', () => {
    const result = parseConsumerEnv(
      { ...consumerBase, WORKER_COUNT: '4', WORKER_PREFETCH_COUNT: '50' },
      context,
    );
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.config.workers.prefetch).toBe(4);
    expect(result.warnings).toEqual([
      expect.stringMatching(/WORKER_PREFETCH_COUNT=50 is clamped to WORKER_COUNT=4: .*no handler/),
    ]);
  });

  it('reads durations with units or as milliseconds', () => {
    const result = parseConsumerEnv(
      { ...consumerBase, REDIS_BLOCK_DURATION: '5s', HANDLER_TIMEOUT: '90000' },
      context,
    );
    expect(result.ok && [result.config.redis?.blockMs, result.config.workers.handlerTimeoutMs]).toEqual([
      5_000, 90_000,
    ]);
  });

  // Each environment is wrong in exactly one way, and the message says which variable and why.
  it.each<[string, Environment, string, RegExp]>([
    ['no queue type', { ...consumerBase, QUEUE_TYPE: undefined }, 'QUEUE_TYPE', /is required/],
    [
      'an unknown queue type',
      { ...consumerBase, QUEUE_TYPE: 'kafka' },
      'QUEUE_TYPE',
      /one of sqs, redis, dual/,
    ],
    [
      'no Redis address for redis',
      {
        ...consumerBase,
        QUEUE_TYPE: 'redis',
        REDIS_ADDRESS: undefined,
        IDEMPOTENCY_REDIS_ADDRESS: 'idem:6379',
      },
      'REDIS_ADDRESS',
      /required when QUEUE_TYPE=redis/,
    ],
    [
      'an address without a port',
      { ...consumerBase, REDIS_ADDRESS: 'redis.internal' },
      'REDIS_ADDRESS',
      /host:port/,
    ],
    [
      'a port out of range',
      { ...consumerBase, REDIS_ADDRESS: 'redis:70000' },
      'REDIS_ADDRESS',
      /between 1 and 65535/,
    ],
    [
      'Sentinel without a master name',
      { ...consumerBase, REDIS_SENTINEL_ENABLED: 'true', REDIS_SENTINEL_ADDRESSES: 's1:26379' },
      'REDIS_SENTINEL_MASTER_NAME',
      /required when Sentinel is enabled/,
    ],
    [
      'Sentinel addresses that are not host:port',
      {
        ...consumerBase,
        REDIS_SENTINEL_ENABLED: 'true',
        REDIS_SENTINEL_MASTER_NAME: 'm',
        REDIS_SENTINEL_ADDRESSES: 's1:26379,s2',
      },
      'REDIS_SENTINEL_ADDRESSES',
      /host:port/,
    ],
    [
      'a flag that is not a boolean',
      { ...consumerBase, REDIS_TLS_ENABLED: 'maybe' },
      'REDIS_TLS_ENABLED',
      /true or false/,
    ],
    [
      'a TLS file that does not exist',
      { ...consumerBase, REDIS_TLS_ENABLED: 'true', REDIS_TLS_CA_FILE: '/nope/ca.crt' },
      'REDIS_TLS_CA_FILE',
      /\/nope\/ca.crt does not exist/,
    ],
    [
      'a client certificate without its key',
      { ...consumerBase, REDIS_TLS_ENABLED: 'true', REDIS_TLS_CERT_FILE: '/etc/tls/client.crt' },
      'REDIS_TLS_KEY_FILE',
      /go together/,
    ],
    [
      'TLS files without TLS enabled',
      { ...consumerBase, REDIS_TLS_CA_FILE: '/etc/tls/ca.crt' },
      'REDIS_TLS_ENABLED',
      /must be true/,
    ],
    [
      'no SQS queue for sqs',
      { ...consumerBase, QUEUE_TYPE: 'sqs', SQS_QUEUE_URL: undefined },
      'SQS_QUEUE_URL',
      /required when QUEUE_TYPE=sqs/,
    ],
    [
      'an SQS URL that is not a URL',
      { ...consumerBase, SQS_QUEUE_URL: 'webhooks' },
      'SQS_QUEUE_URL',
      /http\(s\) URL/,
    ],
    [
      'a FIFO queue',
      { ...consumerBase, SQS_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/1/webhooks.fifo' },
      'SQS_QUEUE_URL',
      /FIFO queues are not supported/,
    ],
    ['no region for SQS', { ...consumerBase, AWS_REGION: undefined }, 'AWS_REGION', /required for SQS/],
    ['zero workers', { ...consumerBase, WORKER_COUNT: '0' }, 'WORKER_COUNT', /at least 1/],
    [
      'a worker count that is not a number',
      { ...consumerBase, WORKER_COUNT: 'ten' },
      'WORKER_COUNT',
      /whole number/,
    ],
    [
      'an SQS batch above 10',
      { ...consumerBase, WORKER_BATCH_SIZE: '25' },
      'WORKER_BATCH_SIZE',
      /at most 10 with SQS/,
    ],
    [
      'a block duration without a number',
      { ...consumerBase, REDIS_BLOCK_DURATION: 'soon' },
      'REDIS_BLOCK_DURATION',
      /duration/,
    ],
    [
      'a block duration too long',
      { ...consumerBase, REDIS_BLOCK_DURATION: '1m' },
      'REDIS_BLOCK_DURATION',
      /between 10ms and 30s/,
    ],
    ['a negative max length', { ...consumerBase, REDIS_MAX_LEN: '-5' }, 'REDIS_MAX_LEN', /whole number/],
    [
      'no idempotency store at all',
      { QUEUE_TYPE: 'sqs', SQS_QUEUE_URL: consumerBase['SQS_QUEUE_URL'], AWS_REGION: 'eu-west-1' },
      'IDEMPOTENCY_REDIS_ADDRESS',
      /idempotency store/,
    ],
    [
      'a retention shorter than SQS can keep a message',
      { ...consumerBase, IDEMPOTENCY_RETENTION: '1h' },
      'IDEMPOTENCY_RETENTION',
      /at least 15 days/,
    ],
  ])('rejects %s', (_case, env, variable, message) => {
    const result = parseConsumerEnv(env, context);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems.map((p) => p.variable)).toEqual([variable]);
    expect(result.problems[0]?.message).toMatch(message);
  });
});

describe('producer configuration from the environment', () => {
  it('builds a Redis producer with SQS as fallback', () => {
    const result = parseProducerEnv(producerBase, context);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.config).toMatchObject({ primary: 'redis', fallback: 'sqs', publishTimeoutMs: 3_000 });
    expect(result.config.redis?.stream).toBe('github-webhooks');
    expect(result.config.sqs?.queueUrl).toBe(producerBase['SQS_QUEUE_URL']);
  });

  it('needs no Redis settings when it only publishes to SQS', () => {
    const result = parseProducerEnv(
      { QUEUE_TYPE: 'sqs', SQS_QUEUE_URL: producerBase['SQS_QUEUE_URL'], AWS_REGION: 'eu-west-1' },
      context,
    );
    expect(result.ok && result.config.redis).toBeUndefined();
  });

  it.each<[string, Environment, string, RegExp]>([
    [
      'dual, which only consumers understand',
      { ...producerBase, QUEUE_TYPE: 'dual' },
      'QUEUE_TYPE',
      /consumers only/,
    ],
    [
      'a fallback equal to the primary',
      { ...producerBase, QUEUE_FALLBACK_TYPE: 'redis' },
      'QUEUE_FALLBACK_TYPE',
      /must differ/,
    ],
    [
      'an unknown fallback',
      { ...producerBase, QUEUE_FALLBACK_TYPE: 'kinesis' },
      'QUEUE_FALLBACK_TYPE',
      /sqs or redis/,
    ],
    [
      'a fallback with no settings',
      { ...producerBase, SQS_QUEUE_URL: undefined },
      'SQS_QUEUE_URL',
      /required when publishing to SQS/,
    ],
    [
      'a publish budget past GitHub’s timeout',
      { ...producerBase, PUBLISH_TIMEOUT: '12s' },
      'PUBLISH_TIMEOUT',
      /GitHub gives up after 10s/,
    ],
  ])('rejects %s', (_case, env, variable, message) => {
    const result = parseProducerEnv(env, context);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems.map((p) => p.variable)).toEqual([variable]);
    expect(result.problems[0]?.message).toMatch(message);
  });

  it('reports every bad variable at once', () => {
    const result = parseProducerEnv({ QUEUE_TYPE: 'kafka', PUBLISH_TIMEOUT: 'x' }, context);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems.map((p) => p.variable)).toEqual(['QUEUE_TYPE', 'PUBLISH_TIMEOUT']);
  });
});
