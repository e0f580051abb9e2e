import { describe, expect, it } from 'vitest';
import {
  configuredSecrets,
  webhookConfiguration,
  workerConfiguration,
  type EnvContext,
} from '../../../src/cli/configuration.ts';

const context: EnvContext = {
  fileExists: () => true,
  hostname: () => 'host-1',
  readFile: () => 'from-file',
};

describe('a service configuration: the adapter’s variables and the service’s together', () => {
  it('reports the problems of both in one pass', () => {
    const result = webhookConfiguration({ QUEUE_TYPE: 'kafka', PORT: 'eighty' }, context);

    expect(result.ok ? [] : result.problems.map((p) => p.variable).sort()).toEqual([
      'PORT',
      'QUEUE_TYPE',
      'WEBHOOK_SECRET',
    ]);
  });

  it('passes the adapter’s warnings on', () => {
    const result = workerConfiguration(
      { QUEUE_TYPE: 'redis', REDIS_ADDRESS: 'redis:6379', WORKER_COUNT: '4', WORKER_PREFETCH_COUNT: '50' },
      context,
    );

    expect(result.ok && result.warnings).toEqual([
      expect.stringContaining('WORKER_PREFETCH_COUNT=50 is clamped'),
    ]);
  });

  it('knows every credential the configuration holds', () => {
    const webhook = webhookConfiguration(
      {
        QUEUE_TYPE: 'redis',
        REDIS_ADDRESS: 'redis:6379',
        REDIS_PASSWORD: 'stream-pw',
        WEBHOOK_SECRET: 'hook',
      },
      context,
    );
    const worker = workerConfiguration(
      {
        QUEUE_TYPE: 'redis',
        REDIS_ADDRESS: 'redis:6379',
        REDIS_PASSWORD: 'stream-pw',
        IDEMPOTENCY_REDIS_ADDRESS: 'idem:6379',
        IDEMPOTENCY_REDIS_PASSWORD: 'idem-pw',
      },
      context,
    );

    expect(webhook.ok && configuredSecrets(webhook.config)).toEqual(['hook', 'stream-pw']);
    expect(worker.ok && configuredSecrets(worker.config).sort()).toEqual(['idem-pw', 'stream-pw']);
  });
});
