import { afterEach, describe, expect, it } from 'vitest';
import { successorId } from '../../../src/adapter/redis-streams/stream-id.ts';
import type { ReceivedMessage } from '../../../src/adapter/types.ts';
import { withRedis } from '../../env/redis.ts';
import { waitUntil } from '../../env/wait.ts';
import {
  BackendPool,
  delivery,
  receiveCount,
  streamsRedisOptions,
  testConfig,
} from './redis-streams-support.ts';

const pool = new BackendPool();
afterEach(() => pool.cleanup());

const streamIds = (stream: string): Promise<string[]> =>
  withRedis(streamsRedisOptions(), async (redis) => (await redis.xrange(stream, '-', '+')).map(([id]) => id));

const streamLength = (stream: string): Promise<number> =>
  withRedis(streamsRedisOptions(), (redis) => redis.xlen(stream));

describe('redis streams back end: trimming', () => {
  it('never trims an entry another group has pending or not yet read, and trims what all groups acknowledged', async () => {
    const config = testConfig();
    const fast = pool.create(config);
    const slow = pool.create({ ...config, group: 'auditors', consumerName: 'auditor-1' });
    await fast.ensureGroup();
    await slow.ensureGroup();
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) ids.push((await fast.publish(delivery(i))).messageId);
    expect(await fast.ack(await receiveCount(fast, 10))).toEqual([]);
    const slowFirst = await receiveCount(slow, 4);
    expect(await slow.ack(slowFirst.slice(0, 2))).toEqual([]);

    // auditors: entries 2 and 3 pending, 4 to 9 never delivered; workers: everything acknowledged.
    expect(await fast.maintain()).toMatchObject({ trimmedBelow: ids[2], trimmedEntries: 2 });
    expect(await streamIds(config.stream)).toEqual(ids.slice(2));

    const slowRest = await receiveCount(slow, 6);
    expect(slowRest.map((m) => m.messageId)).toEqual(ids.slice(4));
    expect(await slow.ack([...slowFirst.slice(2), ...slowRest])).toEqual([]);
    expect(await slow.maintain()).toMatchObject({
      trimmedBelow: successorId(ids[9] ?? ''),
      trimmedEntries: 8,
    });
    expect(await streamLength(config.stream)).toBe(0);
  });

  it('trims nothing while the stream has no group: what producers published first is still owed to it', async () => {
    const config = testConfig();
    const backend = pool.create(config);
    for (let i = 0; i < 3; i++) await backend.publish(delivery(i));

    expect(await backend.maintain()).toEqual({ trimmedEntries: 0, deletedConsumers: [] });
    expect(await streamLength(config.stream)).toBe(3);
    expect(await receiveCount(backend, 3)).toHaveLength(3);
  });

  it('keeps the stream bounded under steady publish and consume, losing and repeating nothing', async ({
    annotate,
  }) => {
    const config = testConfig();
    const producer = pool.create(config);
    const consumer = pool.create(config, { maintenanceIntervalMs: 100 });
    await consumer.ensureGroup();
    const total = 1_000;
    const handled: string[] = [];
    const stop = new AbortController();
    const consuming = (async () => {
      while (!stop.signal.aborted) {
        const batch = await consumer.receive(50, stop.signal);
        expect(await consumer.ack(batch)).toEqual([]);
        handled.push(...batch.map((m) => m.deliveryId));
      }
    })();
    const lengths: number[] = [];
    try {
      // A paced producer: 10 deliveries every 20 ms (500/s) for two seconds.
      for (let sent = 0; sent < total; sent += 10) {
        const tick = new Promise((resolve) => setTimeout(resolve, 20));
        await Promise.all(Array.from({ length: 10 }, (_, i) => producer.publish(delivery(sent + i))));
        lengths.push(await streamLength(config.stream));
        await tick;
      }
      await waitUntil(() => handled.length >= total, { what: `${total} deliveries handled` });
      await waitUntil(async () => (await streamLength(config.stream)) === 0, {
        what: 'periodic maintenance to trim every acknowledged entry',
      });
    } finally {
      stop.abort();
      await consuming;
    }
    expect(new Set(handled).size).toBe(total);
    expect(handled).toHaveLength(total);
    await annotate(`stream length while ${total} deliveries went through: at most ${Math.max(...lengths)}`);
    // Without trimming it would reach 1000; with it, about one maintenance period of traffic.
    expect(Math.max(...lengths)).toBeLessThan(250);
  });

  it('with maxLen below the backlog, drops nothing and reports overCap until the backlog is worked off', async () => {
    const config = testConfig({ maxLen: 5 });
    const backend = pool.create(config);
    await backend.ensureGroup();
    for (let i = 0; i < 8; i++) await backend.publish(delivery(i));

    expect(await streamLength(config.stream)).toBe(8);
    expect(await backend.stats()).toMatchObject({
      length: 8,
      overCap: true,
      backlog: { known: true, value: 8 },
    });

    const all: ReceivedMessage[] = await receiveCount(backend, 8);
    expect(await backend.ack(all)).toEqual([]);
    await backend.maintain();
    expect(await backend.stats()).toMatchObject({ length: 0, overCap: false });
  });
});

describe('redis streams back end: consumer clean-up', () => {
  /** XINFO CONSUMERS as name → idle ms, straight from the server. */
  const consumerIdle = (stream: string, group: string): Promise<Map<string, number>> =>
    withRedis(streamsRedisOptions(), async (redis) => {
      const reply = (await redis.call('XINFO', 'CONSUMERS', stream, group)) as unknown[][];
      return new Map(reply.map((f) => [String(f[f.indexOf('name') + 1]), Number(f[f.indexOf('idle') + 1])]));
    });

  it('deletes consumers idle with nothing pending; never one with pending entries, never itself', async () => {
    const config = testConfig();
    const idleConsumerMs = 400;
    const backend = pool.create(config, {
      watchdogGraceMs: 100,
      activeConsumerWindowMs: 300,
      idleConsumerMs,
    });
    await backend.ensureGroup();
    await backend.publish(delivery(1));
    await withRedis(streamsRedisOptions(), async (redis) => {
      await redis.call(
        'XREADGROUP',
        'GROUP',
        config.group,
        'gone-busy',
        'COUNT',
        1,
        'STREAMS',
        config.stream,
        '>',
      );
      await redis.call('XGROUP', 'CREATECONSUMER', config.stream, config.group, 'gone-empty');
    });
    // Joins the group with nothing pending: everything was taken by gone-busy.
    expect(await backend.receive(10, AbortSignal.timeout(1_000))).toEqual([]);
    await waitUntil(
      async () =>
        [...(await consumerIdle(config.stream, config.group)).values()].every((ms) => ms > idleConsumerMs),
      { what: `every consumer to be idle longer than ${idleConsumerMs} ms`, timeoutMs: 5_000 },
    );

    expect((await backend.maintain()).deletedConsumers).toEqual(['gone-empty']);
    expect([...(await consumerIdle(config.stream, config.group)).keys()].sort()).toEqual(
      [config.consumerName, 'gone-busy'].sort(),
    );
  });
});
