import { describe, expect, it } from 'vitest';
import type { OriginalSettings } from '../../../../src/operator/api/status-schema.ts';
import {
  desiredSettings,
  recordOriginal,
  settingsApplied,
  type Mode,
} from '../../../../src/operator/stages/container-settings.ts';
import { canaryReplicas } from '../../../../src/operator/stages/layout.ts';
import { fastSpec, observed } from './simulated-deployments.ts';

const producer: OriginalSettings = {
  deployment: 'webhook',
  container: 'webhook',
  role: 'producer',
  env: [{ name: 'QUEUE_TYPE', value: 'sqs' }],
};

const queueVariables = (mode: Mode): Record<string, string | undefined> =>
  Object.fromEntries(
    desiredSettings(fastSpec(), producer, mode)
      .env.filter((e) => e.name.startsWith('QUEUE_'))
      .map((e) => [e.name, e.value]),
  );

describe('the operator’s container settings', () => {
  it.each<[Mode, Record<string, string>]>([
    ['original', { QUEUE_TYPE: 'sqs' }],
    ['sqs-with-redis-fallback', { QUEUE_TYPE: 'sqs', QUEUE_FALLBACK_TYPE: 'redis' }],
    ['redis-with-sqs-fallback', { QUEUE_TYPE: 'redis', QUEUE_FALLBACK_TYPE: 'sqs' }],
    ['dual', { QUEUE_TYPE: 'dual' }],
    ['redis', { QUEUE_TYPE: 'redis' }],
  ])('in mode %s set %j', (mode, expected) => {
    expect(queueVariables(mode)).toEqual(expected);
  });

  it('set the Sentinel variables for a Sentinel endpoint', () => {
    const spec = fastSpec({
      redis: { endpoint: { mode: 'sentinel', masterName: 'primary', sentinels: ['s-0:26379', 's-1:26379'] } },
    });
    expect(desiredSettings(spec, producer, 'redis').env.slice(0, 4)).toEqual([
      { name: 'QUEUE_TYPE', value: 'redis' },
      { name: 'REDIS_SENTINEL_ENABLED', value: 'true' },
      { name: 'REDIS_SENTINEL_MASTER_NAME', value: 'primary' },
      { name: 'REDIS_SENTINEL_ADDRESSES', value: 's-0:26379,s-1:26379' },
    ]);
  });

  it('record only the variables the operator manages, as the API server normalises them', () => {
    const original = recordOriginal({ name: 'worker', container: 'worker' }, 'consumer', {
      env: [
        { name: 'QUEUE_TYPE', value: 'sqs' },
        { name: 'SQS_QUEUE_URL', value: 'https://sqs/queue' },
        {
          name: 'IDEMPOTENCY_REDIS_PASSWORD',
          valueFrom: { secretKeyRef: { name: 'idem', key: 'password' } },
        },
        { name: 'REDIS_ADDRESS', valueFrom: { fieldRef: { fieldPath: 'status.hostIP' } } },
      ],
      volumeMounts: [],
    });
    expect(original.env).toEqual([
      { name: 'QUEUE_TYPE', value: 'sqs' },
      { name: 'IDEMPOTENCY_REDIS_PASSWORD', valueFrom: { secretKeyRef: { name: 'idem', key: 'password' } } },
      { name: 'REDIS_ADDRESS', valueFrom: { fieldRef: { fieldPath: 'status.hostIP' } } },
    ]);
  });

  it('keep a consumer’s idempotency store where it was, in every mode', () => {
    const ownStore: OriginalSettings = {
      deployment: 'worker',
      container: 'worker',
      role: 'consumer',
      env: [
        { name: 'QUEUE_TYPE', value: 'sqs' },
        { name: 'IDEMPOTENCY_REDIS_ADDRESS', value: 'idempotency:6379' },
        {
          name: 'IDEMPOTENCY_REDIS_PASSWORD',
          valueFrom: { secretKeyRef: { name: 'idem', key: 'password' } },
        },
      ],
    };
    const inherited: OriginalSettings = {
      ...ownStore,
      env: [
        { name: 'QUEUE_TYPE', value: 'sqs' },
        { name: 'REDIS_ADDRESS', value: 'idempotency:6379' },
      ],
    };
    const store = (original: OriginalSettings, mode: Mode): Record<string, unknown> =>
      Object.fromEntries(
        desiredSettings(fastSpec(), original, mode)
          .env.filter((e) => e.name.startsWith('IDEMPOTENCY_'))
          .map((e) => [e.name, e.value ?? e.valueFrom]),
      );
    for (const mode of ['dual', 'redis'] as const) {
      expect(store(ownStore, mode)).toEqual({
        IDEMPOTENCY_REDIS_ADDRESS: 'idempotency:6379',
        IDEMPOTENCY_REDIS_PASSWORD: { secretKeyRef: { name: 'idem', key: 'password' } },
      });
      expect(store(inherited, mode)).toEqual({ IDEMPOTENCY_REDIS_ADDRESS: 'idempotency:6379' });
    }
  });

  it('count as applied regardless of what the API server adds or leaves out', () => {
    const settings = desiredSettings(
      fastSpec(),
      { ...producer, env: [...producer.env, { name: 'REDIS_USERNAME', value: 'x' }] },
      'dual',
    );
    const env = settings.env
      // An empty value comes back without `value`.
      .map((e) => (e.value === '' ? { name: e.name } : e));
    expect(settingsApplied(observed('webhook', env), 'producer', settings)).toBe(true);
    const stray = [...env, { name: 'QUEUE_FALLBACK_TYPE', value: 'redis' }];
    expect(settingsApplied(observed('webhook', stray), 'producer', settings)).toBe(false);
    const withFieldRef = desiredSettings(
      fastSpec(),
      {
        ...producer,
        env: [{ name: 'REDIS_ADDRESS', valueFrom: { fieldRef: { fieldPath: 'status.hostIP' } } }],
      },
      'original',
    );
    const defaulted = [
      { name: 'REDIS_ADDRESS', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'status.hostIP' } } },
    ];
    expect(settingsApplied(observed('webhook', defaulted), 'producer', withFieldRef)).toBe(true);
  });

  it.each([
    [2, 25, 1],
    [2, 50, 2],
    [10, 10, 1],
    [9, 50, 9],
    [4, 75, 12],
    [0, 50, 0],
  ])('size the canary of %i producer pods at %i%% as %i pod(s)', (replicas, weight, canaries) => {
    expect(canaryReplicas(replicas, weight)).toBe(canaries);
  });
});
