import { describe, expect, it } from 'vitest';
import type { OriginalSettings } from '../../../../src/operator/api/status-schema.ts';
import {
  desiredSettings,
  foreignChanges,
  recordOriginal,
  settingsApplied,
  type Mode,
} from '../../../../src/operator/stages/container-settings.ts';
import { canaryReplicas } from '../../../../src/operator/stages/layout.ts';
import type { EnvEntry } from '../../../../src/operator/stages/observations.ts';
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
        // Handlers may use AWS for other things: the operator leaves these alone.
        { name: 'AWS_REGION', value: 'eu-west-1' },
        { name: 'AWS_ENDPOINT_URL', value: 'http://127.0.0.1:4566' },
      ],
      volumeMounts: [],
    });
    expect(original.env).toEqual([
      { name: 'QUEUE_TYPE', value: 'sqs' },
      { name: 'SQS_QUEUE_URL', value: 'https://sqs/queue' },
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

  describe('of SQS', () => {
    const dlqRef = { configMapKeyRef: { name: 'queues', key: 'dlq' } };
    const recorded: OriginalSettings = {
      ...producer,
      env: [
        { name: 'QUEUE_TYPE', value: 'sqs' },
        { name: 'SQS_QUEUE_URL', value: 'https://sqs/queue' },
        { name: 'SQS_DLQ_URL', valueFrom: dlqRef },
        { name: 'SQS_WAIT_TIME_SECONDS', value: '20' },
        { name: 'SQS_VISIBILITY_TIMEOUT_SECONDS', value: '120' },
      ],
    };
    const sqsOf = (original: OriginalSettings, mode: Mode): Record<string, unknown> =>
      Object.fromEntries(
        desiredSettings(fastSpec(), original, mode)
          .env.filter((e) => e.name.startsWith('SQS_') || e.name.startsWith('AWS_'))
          .map((e) => [e.name, e.value ?? e.valueFrom]),
      );
    const asRecorded = {
      SQS_QUEUE_URL: 'https://sqs/queue',
      SQS_DLQ_URL: dlqRef,
      SQS_WAIT_TIME_SECONDS: '20',
      SQS_VISIBILITY_TIMEOUT_SECONDS: '120',
    };

    it.each<Mode>(['original', 'sqs-with-redis-fallback', 'redis-with-sqs-fallback', 'dual'])(
      'carry the recorded settings while SQS may be used (%s)',
      (mode) => {
        expect(sqsOf(recorded, mode)).toEqual(asRecorded);
      },
    );

    it('remove every recorded one in redis mode', () => {
      expect(sqsOf(recorded, 'redis')).toEqual({
        SQS_QUEUE_URL: '',
        SQS_DLQ_URL: '',
        SQS_WAIT_TIME_SECONDS: '',
        SQS_VISIBILITY_TIMEOUT_SECONDS: '',
      });
    });

    // status.originals of a migration started before the operator managed the SQS settings.
    const unrecorded: OriginalSettings = { ...producer, env: [{ name: 'QUEUE_TYPE', value: 'sqs' }] };
    const userSqs = [
      { name: 'SQS_QUEUE_URL', value: 'https://sqs/queue' },
      { name: 'SQS_DLQ_URL', value: 'https://sqs/dlq' },
    ];

    it('leave alone the settings a migration did not record: not set, not removed, never a stray', () => {
      const settings = desiredSettings(fastSpec(), unrecorded, 'redis');
      expect(sqsOf(unrecorded, 'redis')).toEqual({});
      expect(settingsApplied(observed('webhook', [...settings.env, ...userSqs]), 'producer', settings)).toBe(
        true,
      );
    });

    it('count an SQS setting another manager changed as a stray', () => {
      const settings = desiredSettings(fastSpec(), recorded, 'dual');
      const moved = settings.env.map((e) =>
        e.name === 'SQS_QUEUE_URL' ? { name: e.name, value: 'https://sqs/elsewhere' } : e,
      );
      expect(settingsApplied(observed('webhook', settings.env), 'producer', settings)).toBe(true);
      expect(settingsApplied(observed('webhook', moved), 'producer', settings)).toBe(false);
    });

    it.each<[string, OriginalSettings, Mode, EnvEntry[], string[]]>([
      // The user's manager co-owns the value the operator carries, unchanged: no conflict.
      ['the user’s own unchanged value', recorded, 'dual', [], []],
      ['a value the migration never recorded', unrecorded, 'redis', userSqs, []],
      [
        'the queue moved under the migration',
        recorded,
        'dual',
        [{ name: 'SQS_QUEUE_URL', value: 'https://sqs/elsewhere' }],
        ['SQS_QUEUE_URL'],
      ],
      [
        'a removed value put back',
        recorded,
        'redis',
        [{ name: 'SQS_QUEUE_URL', value: 'https://sqs/queue' }],
        ['SQS_QUEUE_URL'],
      ],
    ])(
      'see a conflict over SQS settings only when another manager changes them: %s',
      (_what, original, mode, changed, conflicts) => {
        const settings = desiredSettings(fastSpec(), original, mode);
        const env = [...settings.env.filter((e) => !changed.some((c) => c.name === e.name)), ...changed];
        const deployment = {
          ...observed('webhook', env),
          foreignFields: ['SQS_QUEUE_URL', 'SQS_DLQ_URL'].map((variable) => ({
            variable,
            manager: 'kubectl-client-side-apply',
          })),
        };
        expect(foreignChanges(deployment, settings).map((c) => c.variable)).toEqual(conflicts);
      },
    );
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
