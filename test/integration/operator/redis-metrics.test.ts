import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { systemClock, type Clock } from '../../../src/adapter/clock.ts';
import type { ReceivedMessage } from '../../../src/adapter/types.ts';
import type { RedisStreamsOptions } from '../../../src/adapter/redis-streams/options.ts';
import type { RedisStreamsBackend } from '../../../src/adapter/redis-streams/redis-streams-backend.ts';
import {
  REDIS_MEASURES,
  type MetricSettings,
  type RedisMeasure,
} from '../../../src/operator/api/analysis-schema.ts';
import { RedisProvider } from '../../../src/operator/analysis/providers/redis-provider.ts';
import type { Reading } from '../../../src/operator/analysis/reading.ts';
import {
  BackendPool,
  ConsumerLoop,
  delivery,
  receiveCount,
  testConfig,
} from '../adapter/redis-streams-support.ts';
import { maxmemoryBelowUse } from '../adapter/below-memory-use.ts';
import { idleLongerThan } from '../adapter/consumer-idle.ts';
import { PrivateRedis } from '../services/fixtures/private-redis.ts';
import { withRedis } from '../../env/redis.ts';
import { waitUntil } from '../../env/wait.ts';
import { decideOnRounds } from './round-decision.ts';

// A server of this file's own: the error cases stop it, which the shared stream Redis must not suffer.
let redis: PrivateRedis;
let pool: BackendPool;
const clients: Redis[] = [];

beforeAll(async () => {
  redis = await PrivateRedis.start({ maxmemory: '64mb' });
  pool = new BackendPool(() => ({ host: '127.0.0.1', port: redis.port }));
});
afterEach(async () => {
  await pool.cleanup();
  await Promise.all(clients.splice(0).map((c) => c.quit().catch(() => undefined)));
});
afterAll(async () => {
  await redis.dispose();
});

const metric = (redisMeasure: RedisMeasure, operator: '<=' | '>=', value: number): MetricSettings => ({
  name: `m-${redisMeasure}`,
  redis: redisMeasure,
  threshold: { operator, value },
  stages: ['canary'],
});

/** A stream with its group on the private server, the provider reading it, and a consumer. */
function setUp(
  statsClock: Clock = systemClock,
  options: RedisStreamsOptions = {},
): {
  consumer: RedisStreamsBackend;
  provider: RedisProvider;
  stream: string;
  group: string;
} {
  const config = testConfig({
    connection: { endpoint: { kind: 'standalone', address: { host: '127.0.0.1', port: redis.port } } },
    consumerName: 'worker-0',
  });
  const consumer = pool.create(config, options);
  const stats = pool.create(
    { ...config, consumerName: 'queueshift-operator' },
    { ...options, clock: statsClock },
  );
  const client = new Redis({ port: redis.port, host: '127.0.0.1', maxRetriesPerRequest: 0 });
  client.on('error', () => undefined);
  clients.push(client);
  const provider = new RedisProvider({
    stats: () => stats.stats(),
    client: () => client,
    stream: config.stream,
    group: config.group,
    clock: systemClock,
    timeoutMs: 2_000,
  });
  return { consumer, provider, stream: config.stream, group: config.group };
}

async function read(
  provider: RedisProvider,
  m: MetricSettings,
  readyConsumers: string[] = ['worker-0'],
): Promise<Reading> {
  const readings = await provider.measure([m], { window: { start: 0, end: Date.now() }, readyConsumers });
  const reading = readings.get(m.name);
  if (reading === undefined) throw new Error(`no reading for ${m.name}`);
  return reading;
}

async function publishAndReceive(consumer: RedisStreamsBackend, count: number): Promise<ReceivedMessage[]> {
  await consumer.ensureGroup();
  for (let i = 0; i < count; i++) await consumer.publish(delivery(i));
  return receiveCount(consumer, count);
}

function fail(why: string): never {
  throw new Error(why);
}

describe('built-in Redis metrics, read through the adapter from a real Redis', () => {
  it('backlog: lag + pending passes, too many fails, unknown lag is inconclusive (pause)', async () => {
    const { consumer, provider, stream } = setUp();
    await publishAndReceive(consumer, 2);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await consumer.publish(delivery(10 + i))).messageId);

    const backlog = await read(provider, metric('backlog', '<=', 10));
    expect(backlog).toMatchObject({ kind: 'value', value: 5 });
    expect(decideOnRounds(metric('backlog', '<=', 10), [backlog])).toEqual({ kind: 'advance' });
    expect(decideOnRounds(metric('backlog', '<=', 4), [backlog])).toMatchObject({ kind: 'rollback' });

    // Deleting an entry past the group position makes the server report lag as NULL.
    const admin = new Redis({ port: redis.port, host: '127.0.0.1' });
    clients.push(admin);
    await admin.xdel(stream, ids[1] ?? '');
    const unknown = await read(provider, metric('backlog', '<=', 10));
    expect(unknown).toMatchObject({
      kind: 'no-data',
      reason: expect.stringMatching(/^lag unknown: .*NULL/) as string,
    });
    expect(decideOnRounds(metric('backlog', '<=', 10), [unknown])).toMatchObject({ kind: 'pause' });
  });

  it.each([
    { measure: 'oldest-pending-age-seconds' as const },
    { measure: 'oldest-undelivered-age-seconds' as const },
  ])('$measure: fresh entries pass, entries older than the threshold fail', async ({ measure }) => {
    // Real timers; entry ages read against a clock 400 s ahead, so the entries are "old".
    const later: Clock = {
      now: () => Date.now() + 400_000,
      schedule: (ms, callback) => systemClock.schedule(ms, callback),
    };
    const fresh = setUp();
    await publishAndReceive(fresh.consumer, 1);
    await fresh.consumer.publish(delivery(1));
    const young = await read(fresh.provider, metric(measure, '<=', 300));
    expect(young.kind === 'value' && young.value < 60).toBe(true);
    expect(decideOnRounds(metric(measure, '<=', 300), [young])).toEqual({ kind: 'advance' });

    const aged = setUp(later);
    await publishAndReceive(aged.consumer, 1);
    await aged.consumer.publish(delivery(1));
    const old = await read(aged.provider, metric(measure, '<=', 300));
    expect(decideOnRounds(metric(measure, '<=', 300), [old])).toMatchObject({
      kind: 'rollback',
      reason: expect.stringMatching(
        new RegExp(`metric m-${measure} failed: value 4\\d\\d(\\.\\d+)?, threshold <= 300`),
      ) as string,
    });
  });

  it('dead-letter growth: the first round is a baseline, then no growth passes and growth fails', async () => {
    const { consumer, provider } = setUp();
    const received = await publishAndReceive(consumer, 2);
    const m = metric('dead-letter-growth', '<=', 0);
    const before = await read(provider, m);
    const still = await read(provider, m);
    expect(decideOnRounds(m, [before])).toMatchObject({ kind: 'hold' });
    expect(decideOnRounds(m, [before, still])).toEqual({ kind: 'advance' });
    await consumer.deadLetter(received[0] ?? fail('nothing received'), 'handler said dead');
    const after = await read(provider, m);
    expect(decideOnRounds(m, [before, after])).toMatchObject({
      kind: 'rollback',
      reason: expect.stringContaining('value 1, threshold <= 0') as string,
    });
  });

  it('lost to trimming: pending entries the stream no longer holds fail the gate', async () => {
    const { consumer, provider, stream } = setUp();
    await publishAndReceive(consumer, 3);
    const m = metric('lost-to-trimming', '<=', 0);
    const intact = await read(provider, m);
    expect(intact).toEqual({ kind: 'value', value: 0 });
    expect(decideOnRounds(m, [intact])).toEqual({ kind: 'advance' });

    const admin = new Redis({ port: redis.port, host: '127.0.0.1' });
    clients.push(admin);
    await admin.xtrim(stream, 'MAXLEN', 0);
    await consumer.publish(delivery(4));
    const lost = await read(provider, m);
    expect(lost).toEqual({ kind: 'value', value: 3 });
    expect(decideOnRounds(m, [lost])).toMatchObject({ kind: 'rollback' });
  });

  it('memory headroom: INFO memory against maxmemory', async () => {
    const { provider } = setUp();
    const headroom = await read(provider, metric('memory-headroom-percent', '>=', 20));
    expect(headroom).toMatchObject({
      kind: 'value',
      detail: expect.stringMatching(/of 67108864 bytes used$/) as string,
    });
    expect(decideOnRounds(metric('memory-headroom-percent', '>=', 20), [headroom])).toEqual({
      kind: 'advance',
    });
    expect(decideOnRounds(metric('memory-headroom-percent', '>=', 99.99), [headroom])).toMatchObject({
      kind: 'rollback',
    });
  });

  it('missing consumers: every ready consumer pod must be an active group consumer; none expected yet holds, uncounted', async () => {
    const { consumer, provider } = setUp();
    await publishAndReceive(consumer, 1);
    const m = metric('missing-consumers', '<=', 0);
    const all = await read(provider, m, ['worker-0']);
    expect(decideOnRounds(m, [all])).toEqual({ kind: 'advance' });
    const missing = await read(provider, m, ['worker-0', 'worker-1']);
    expect(missing).toMatchObject({
      kind: 'value',
      value: 1,
      detail: expect.stringContaining('worker-1') as string,
    });
    expect(decideOnRounds(m, [missing])).toMatchObject({ kind: 'rollback' });
    const none = await read(provider, m, []);
    expect(none).toEqual({
      kind: 'not-yet',
      reason: 'no consumer pod has read Redis long enough to be in the group',
    });
    // A rollout that takes many rounds neither pauses nor rolls back the migration: it holds it.
    expect(decideOnRounds(m, [none, none, none, none, none, none])).toMatchObject({ kind: 'hold' });
  });

  it('missing consumers on a quiet stream: a worker still reading counts long after its last delivery; one that stopped while an entry waits is missing', async () => {
    // A short activity window (above blockMs 100 + grace 200) instead of the default 30 s.
    const windowMs = 500;
    const { consumer, provider, stream, group } = setUp(systemClock, {
      watchdogGraceMs: 200,
      activeConsumerWindowMs: windowMs,
    });
    const m = metric('missing-consumers', '<=', 0);
    await consumer.ensureGroup();
    const loop = new ConsumerLoop(consumer);
    try {
      const first = delivery(1);
      await consumer.publish(first);
      await loop.handledDelivery(first.deliveryId);
      // Redis 7.0 resets XINFO CONSUMERS idle only on a delivery, not on the loop's empty reads.
      await idleLongerThan(
        { host: '127.0.0.1', port: redis.port },
        { stream, group, consumer: 'worker-0' },
        windowMs,
      );
      const reading = await read(provider, m);
      expect(reading).toMatchObject({ kind: 'value', value: 0 });
      expect(decideOnRounds(m, [reading])).toEqual({ kind: 'advance' });
    } finally {
      await loop.close();
    }

    await consumer.publish(delivery(2));
    const missing = await waitUntil(
      async () => {
        const reading = await read(provider, m);
        return reading.kind === 'value' && reading.value === 1 && reading;
      },
      { what: 'worker-0 to be missing once the entry waited the window', timeoutMs: 10_000 },
    );
    expect(missing).toMatchObject({ detail: expect.stringContaining('worker-0') as string });
    expect(decideOnRounds(m, [missing])).toMatchObject({ kind: 'rollback' });
  });

  it('over maxmemory (noeviction), the stream figures still read: values, not provider errors', async () => {
    const { consumer, provider } = setUp();
    const server = { host: '127.0.0.1', port: redis.port };
    await publishAndReceive(consumer, 2);
    await consumer.publish(delivery(3));
    const limit = await maxmemoryBelowUse(server);
    try {
      await expect(consumer.publish(delivery(4))).rejects.toThrow(/OOM command not allowed/);
      const readings = await provider.measure(
        [
          metric('backlog', '<=', 10),
          metric('missing-consumers', '<=', 0),
          metric('dead-letter-growth', '<=', 0),
        ],
        { window: { start: 0, end: Date.now() }, readyConsumers: ['worker-0'] },
      );
      expect(Object.fromEntries(readings)).toMatchObject({
        'm-backlog': { kind: 'value', value: 3 },
        'm-missing-consumers': { kind: 'value', value: 0 },
        'm-dead-letter-growth': { kind: 'value', value: 0 },
      });
    } finally {
      await withRedis(server, (admin) => admin.config('SET', 'maxmemory', limit));
    }
  });

  it('every built-in metric reads as a provider error while the Redis server is down', async () => {
    const { consumer, provider } = setUp();
    await publishAndReceive(consumer, 1);
    const all = REDIS_MEASURES.map((measure) => metric(measure, '<=', 1e9));
    await redis.kill();
    try {
      const readings = await provider.measure(all, {
        window: { start: 0, end: Date.now() },
        readyConsumers: ['worker-0'],
      });
      for (const m of all) {
        const reading = readings.get(m.name);
        expect(reading?.kind, m.name).toBe('error');
        expect(decideOnRounds(m, [reading ?? { kind: 'no-data', reason: '' }])).toMatchObject({
          kind: 'rollback',
          reason: expect.stringContaining('consecutive provider errors') as string,
        });
      }
    } finally {
      await redis.restart();
    }
  });
});
