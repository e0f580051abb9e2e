import { afterEach, describe, expect, it } from 'vitest';
import { systemClock, type Clock } from '../../../src/adapter/clock.ts';
import { idTimestampMs } from '../../../src/adapter/redis-streams/stream-id.ts';
import type { ReceivedMessage, RedisStreamStats } from '../../../src/adapter/types.ts';
import { withRedis } from '../../env/redis.ts';
import { waitUntil } from '../../env/wait.ts';
import {
  BackendPool,
  ConsumerLoop,
  delivery,
  receiveCount,
  RecordingLogger,
  streamsRedisOptions,
  testConfig,
} from './redis-streams-support.ts';
import { idleLongerThan } from './consumer-idle.ts';

const pool = new BackendPool();
afterEach(() => pool.cleanup());

/** Real timers, but `now()` reads what the test set: entry ages become exact. */
function frozenAt(now: number): Clock {
  return {
    now: () => now,
    schedule: (ms, callback) => systemClock.schedule(ms, callback),
  };
}

const onStreamsRedis = <T>(use: Parameters<typeof withRedis<T>>[1]): Promise<T> =>
  withRedis(streamsRedisOptions(), use);

describe('redis streams back end: stats', () => {
  it('an empty stream is data: backlog 0 and ages 0, known', async () => {
    const config = testConfig();
    const backend = pool.create(config);
    await backend.ensureGroup();

    expect(await backend.stats()).toEqual({
      kind: 'redis',
      stream: config.stream,
      group: config.group,
      length: 0,
      lag: { known: true, value: 0 },
      pending: 0,
      backlog: { known: true, value: 0 },
      oldestPendingAgeMs: 0,
      oldestUndeliveredAgeMs: 0,
      deadLetterLength: 0,
      lostToTrimming: 0,
      activeConsumers: [],
      overCap: false,
    } satisfies RedisStreamStats);
  });

  it('backlog = lag + pending, with the ages of the oldest pending and undelivered entries from their ids', async () => {
    const config = testConfig({ claimIdleMs: 60_000 });
    const producer = pool.create(config);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await producer.publish(delivery(i))).messageId);
    const now = idTimestampMs(ids[2] ?? '') + 90_000;
    const consumer = pool.create(config, { clock: frozenAt(now) });
    await receiveCount(consumer, 1);

    expect(await consumer.stats()).toMatchObject({
      length: 3,
      lag: { known: true, value: 2 },
      pending: 1,
      backlog: { known: true, value: 3 },
      oldestPendingAgeMs: now - idTimestampMs(ids[0] ?? ''),
      oldestUndeliveredAgeMs: now - idTimestampMs(ids[1] ?? ''),
      activeConsumers: [config.consumerName],
    });
  });

  it('lag NULL after an entry past the group position was deleted: backlog unknown, never 0; ages still known', async () => {
    const config = testConfig();
    const producer = pool.create(config);
    await producer.ensureGroup();
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await producer.publish(delivery(i))).messageId);
    await onStreamsRedis((redis) => redis.xdel(config.stream, ids[1] ?? ''));
    const now = idTimestampMs(ids[2] ?? '') + 5_000;

    const stats = await pool.create(config, { clock: frozenAt(now) }).stats();

    expect(stats.lag).toEqual({
      known: false,
      reason: expect.stringMatching(/reports lag as NULL/) as string,
    });
    expect(stats.backlog).toEqual(stats.lag);
    expect(stats.oldestUndeliveredAgeMs).toBe(now - idTimestampMs(ids[0] ?? ''));
  });

  // XGROUP SETID … ENTRIESREAD sets the counter lag is derived from: the server then reports the
  // same wrong lags that XDEL/XTRIM bugs produced in some releases.
  it.each([
    {
      wrong: 'lag > 0 with nothing undelivered',
      setId: ['$', 'ENTRIESREAD', 0],
      reason: /reports lag 3, but no entry exists after last-delivered-id/,
    },
    {
      wrong: 'lag 0 with entries undelivered',
      setId: ['0', 'ENTRIESREAD', 3],
      reason: /reports lag 0, but entry \d+-\d+ after last-delivered-id 0-0 was never delivered/,
    },
  ])('a wrong lag ($wrong) is reported as unknown with the reason', async ({ setId, reason }) => {
    const config = testConfig();
    const backend = pool.create(config);
    await backend.ensureGroup();
    for (let i = 0; i < 3; i++) await backend.publish(delivery(i));
    expect(await backend.ack(await receiveCount(backend, 3))).toEqual([]);
    await onStreamsRedis((redis) => redis.call('XGROUP', 'SETID', config.stream, config.group, ...setId));

    const { lag, backlog } = await backend.stats();

    expect(lag).toEqual({ known: false, reason: expect.stringMatching(reason) as string });
    expect(backlog.known).toBe(false);
  });
});

describe('redis streams back end: entries lost to trimming', () => {
  /** A foreign MAXLEN trim (the known way to lose entries) deletes an entry that is still pending. */
  async function trimmedWhilePending(config: ReturnType<typeof testConfig>): Promise<string> {
    const first = pool.create(config);
    const { messageId } = await first.publish(delivery(1));
    await receiveCount(first, 1);
    await first.close();
    await onStreamsRedis((redis) => redis.xtrim(config.stream, 'MAXLEN', 0));
    return messageId;
  }

  it('XAUTOCLAIM of another consumer reports it: counted, logged as an error, never handed out', async () => {
    const config = testConfig({ claimIdleMs: 200 });
    const lostId = await trimmedWhilePending(config);
    const log = new RecordingLogger();
    const other = pool.create(
      { ...config, consumerName: `${config.consumerName}-b` },
      { logger: log.logger, claimIntervalMs: 20 },
    );

    const handedOut: ReceivedMessage[] = [];
    await waitUntil(
      async () => {
        handedOut.push(...(await other.receive(10, AbortSignal.timeout(1_000))));
        return (await other.stats()).lostToTrimming === 1;
      },
      { what: 'the other consumer to find the trimmed entry', timeoutMs: 10_000, intervalMs: 0 },
    );
    expect(handedOut).toEqual([]);
    expect(log.find(50, /no longer exist in the stream \(found by XAUTOCLAIM\)/)).toEqual([
      expect.objectContaining({ ids: [lostId], stream: config.stream, group: config.group }),
    ]);
    expect((await other.stats()).pending).toBe(0);
  });

  it('the own pending re-read after a restart reports it too, and clears it from the pending list', async () => {
    const config = testConfig({ claimIdleMs: 600_000 });
    const lostId = await trimmedWhilePending(config);
    const log = new RecordingLogger();
    const restarted = pool.create(config, { logger: log.logger });

    expect(await restarted.receive(10, AbortSignal.timeout(1_000))).toEqual([]);

    expect(await restarted.stats()).toMatchObject({ lostToTrimming: 1, pending: 0 });
    expect(log.find(50, /found by its own pending list/)).toEqual([
      expect.objectContaining({ ids: [lostId] }),
    ]);
  });
});

describe('redis streams back end: active consumers on an idle stream', () => {
  // Short enough to pass within a test, long enough for blockMs 100 + watchdog grace 200.
  const windowMs = 500;
  const options = { watchdogGraceMs: 200, activeConsumerWindowMs: windowMs };

  const idlePastTheWindow = (config: ReturnType<typeof testConfig>): Promise<number> =>
    idleLongerThan(
      streamsRedisOptions(),
      { stream: config.stream, group: config.group, consumer: config.consumerName },
      windowMs,
    );

  it('a consumer that keeps reading a stream with no traffic stays active long after its last delivery', async () => {
    const config = testConfig();
    const worker = pool.create(config, options);
    await worker.ensureGroup();
    const loop = new ConsumerLoop(worker);
    try {
      const first = delivery(1);
      await worker.publish(first);
      await loop.handledDelivery(first.deliveryId);
      // Redis 7.0 resets idle only on a delivery: the loop's empty blocking reads leave it growing.
      await idlePastTheWindow(config);

      expect((await worker.stats()).activeConsumers).toEqual([config.consumerName]);
      // It was reading all along: the next entry is handled at once.
      const next = delivery(2);
      await worker.publish(next);
      await loop.handledDelivery(next.deliveryId, 2_000);
      expect(loop.errors).toEqual([]);
    } finally {
      await loop.close();
    }
  });

  it('a consumer that stopped reading while an entry waits is active until the entry waited the window, then not', async () => {
    const config = testConfig();
    const worker = pool.create(config, options);
    await worker.ensureGroup();
    await worker.publish(delivery(1));
    expect(await worker.ack(await receiveCount(worker, 1))).toEqual([]);
    // From here the worker never reads again.
    const { messageId } = await worker.publish(delivery(2));
    await idlePastTheWindow(config);
    const observedAt = (now: number): Promise<RedisStreamStats> =>
      pool.create(config, { ...options, clock: frozenAt(now) }).stats();

    expect((await observedAt(idTimestampMs(messageId) + windowMs - 1)).activeConsumers).toEqual([
      config.consumerName,
    ]);
    expect((await observedAt(idTimestampMs(messageId) + windowMs)).activeConsumers).toEqual([]);
  });

  it('a consumer that never joined the group is not active, however quiet the stream', async () => {
    const config = testConfig();
    const producer = pool.create(config, options);
    await producer.ensureGroup();
    await producer.publish(delivery(1));
    const reader = pool.create({ ...config, consumerName: 'reader' }, options);
    expect(await reader.ack(await receiveCount(reader, 1))).toEqual([]);

    expect((await producer.stats()).activeConsumers).toEqual(['reader']);
  });
});
