import { describe, expect, it } from 'vitest';
import type { OriginalSettings, RecordedEnvVar } from '../../../src/operator/api/status-schema.ts';
import {
  probeStoreSettings,
  type SecretLookup,
} from '../../../src/operator/analysis/probe-store-settings.ts';
import type { EnvEntry } from '../../../src/operator/stages/observations.ts';
import { fastSpec } from './stages/simulated-deployments.ts';

const consumer = (env: RecordedEnvVar[], deployment = 'worker'): OriginalSettings => ({
  deployment,
  container: 'worker',
  role: 'consumer',
  env,
});

const secrets: Record<string, string> = { 'idem-auth/password': 's3cret' };
const lookup: SecretLookup = (ref) => {
  const value = secrets[`${ref.name}/${ref.key}`];
  return value === undefined
    ? Promise.reject(new Error(`no ${ref.name}/${ref.key}`))
    : Promise.resolve(value);
};

describe('where probes look for done marks', () => {
  it('is the consumers’ own store when they had one', async () => {
    const store = await probeStoreSettings(
      fastSpec(),
      [
        consumer([
          { name: 'QUEUE_TYPE', value: 'sqs' },
          { name: 'IDEMPOTENCY_REDIS_ADDRESS', value: 'idempotency.queues.svc:6380' },
          { name: 'IDEMPOTENCY_REDIS_USERNAME', value: 'workers' },
          {
            name: 'IDEMPOTENCY_REDIS_PASSWORD',
            valueFrom: { secretKeyRef: { name: 'idem-auth', key: 'password' } },
          },
        ]),
      ],
      lookup,
    );
    expect(store).toEqual({
      known: true,
      value: {
        connection: {
          endpoint: { kind: 'standalone', address: { host: 'idempotency.queues.svc', port: 6380 } },
          username: 'workers',
          password: 's3cret',
        },
        keyPrefix: 'queueshift:idem:',
        leaseMs: 30_000,
        doneRetentionMs: 21 * 24 * 3_600_000,
      },
    });
  });

  it('is the Redis the consumers used before the migration when the store came through REDIS_*', async () => {
    const store = await probeStoreSettings(
      fastSpec(),
      [consumer([{ name: 'REDIS_ADDRESS', value: 'legacy-redis:6379' }])],
      lookup,
    );
    expect(store).toMatchObject({
      known: true,
      value: { connection: { endpoint: { address: { host: 'legacy-redis', port: 6379 } } } },
    });
  });

  it('looks under the consumers’ own key prefix, from their live env', async () => {
    const store = await probeStoreSettings(
      fastSpec(),
      [consumer([{ name: 'IDEMPOTENCY_REDIS_ADDRESS', value: 'idem:6379' }])],
      lookup,
      [
        { name: 'IDEMPOTENCY_KEY_PREFIX', value: 'billing:idem:' },
        { name: 'IDEMPOTENCY_REDIS_ADDRESS', value: 'changed-by-someone-else:6379' },
      ],
    );
    expect(store).toMatchObject({
      known: true,
      value: { keyPrefix: 'billing:idem:', connection: { endpoint: { address: { host: 'idem' } } } },
    });
  });

  it('dates done marks with the consumers’ own retention, and assumes the default when it cannot be read', async () => {
    const retention = async (entry: EnvEntry) => {
      const store = await probeStoreSettings(
        fastSpec(),
        [consumer([{ name: 'IDEMPOTENCY_REDIS_ADDRESS', value: 'idem:6379' }])],
        lookup,
        [entry],
      );
      return store.known ? store.value.doneRetentionMs : store.reason;
    };
    expect(await retention({ name: 'IDEMPOTENCY_RETENTION', value: '720h' })).toBe(30 * 24 * 3_600_000);
    // The probes still run: a mark dated under the wrong retention is caught by the check (probe-round.ts).
    expect(
      await retention({
        name: 'IDEMPOTENCY_RETENTION',
        valueFrom: { configMapKeyRef: { name: 'worker', key: 'retention' } },
      }),
    ).toBe(21 * 24 * 3_600_000);
  });

  it.each<[string, OriginalSettings[], string]>([
    ['nothing is recorded yet', [], 'no consumer settings are recorded yet'],
    [
      'the password Secret cannot be read',
      [
        consumer([
          { name: 'IDEMPOTENCY_REDIS_ADDRESS', value: 'idem:6379' },
          { name: 'IDEMPOTENCY_REDIS_PASSWORD', valueFrom: { secretKeyRef: { name: 'gone', key: 'pw' } } },
        ]),
      ],
      'no gone/pw',
    ],
    [
      'a setting comes from a ConfigMap',
      [
        consumer([
          {
            name: 'IDEMPOTENCY_REDIS_ADDRESS',
            valueFrom: { configMapKeyRef: { name: 'redis', key: 'address' } },
          },
        ]),
      ],
      'IDEMPOTENCY_REDIS_ADDRESS comes from a ConfigMap or the downward API, which the operator does not read',
    ],
    [
      'the store needs TLS files of the pods',
      [
        consumer([
          { name: 'IDEMPOTENCY_REDIS_ADDRESS', value: 'idem:6379' },
          { name: 'IDEMPOTENCY_REDIS_TLS_ENABLED', value: 'true' },
          { name: 'IDEMPOTENCY_REDIS_TLS_CA_FILE', value: '/etc/redis/ca.crt' },
        ]),
      ],
      'the idempotency store is reached over TLS with files mounted in the consumer pods, which the operator cannot read',
    ],
  ])('is unknown, with the reason, when %s', async (_what, originals, reason) => {
    expect(await probeStoreSettings(fastSpec(), originals, lookup)).toEqual({ known: false, reason });
  });
});
