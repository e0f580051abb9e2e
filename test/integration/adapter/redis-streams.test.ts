import { afterEach, describe, expect, it } from 'vitest';
import { DEAD_LETTER_FIELDS, ENTRY_FIELDS } from '../../../src/adapter/redis-streams/entry-codec.ts';
import { idTimestampMs } from '../../../src/adapter/redis-streams/stream-id.ts';
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

/** XPENDING rows of a group, straight from the server: [id, consumer, idle, deliveries]. */
async function pendingRows(stream: string, group: string): Promise<[string, string, number, number][]> {
  return withRedis(streamsRedisOptions(), async (redis) => {
    return (await redis.call('XPENDING', stream, group, '-', '+', 100)) as [string, string, number, number][];
  });
}

async function entryFields(stream: string): Promise<Record<string, string>[]> {
  return withRedis(streamsRedisOptions(), async (redis) => {
    const entries = await redis.xrange(stream, '-', '+');
    return entries.map(
      ([, fields]) =>
        Object.fromEntries(fields.flatMap((f, i) => (i % 2 ? [] : [[f, fields[i + 1]]]))) as Record<
          string,
          string
        >,
    );
  });
}

describe('redis streams back end: delivery', () => {
  it('publishes, receives with every field intact, and acknowledges', async () => {
    const config = testConfig();
    const backend = pool.create(config);
    await backend.ensureGroup();
    const withAttributes = delivery(1, { event: 'push', 'x-probe': 'no' });
    const plain = delivery(2);
    const published = [await backend.publish(withAttributes), await backend.publish(plain)];

    const received = await receiveCount(backend, 2);

    expect(received).toEqual([
      {
        ...withAttributes,
        backend: 'redis',
        receipt: published[0]?.messageId,
        messageId: published[0]?.messageId,
        deliveryCount: 1,
        enqueuedAt: idTimestampMs(published[0]?.messageId ?? ''),
      },
      {
        ...plain,
        backend: 'redis',
        receipt: published[1]?.messageId,
        messageId: published[1]?.messageId,
        deliveryCount: 1,
        enqueuedAt: idTimestampMs(published[1]?.messageId ?? ''),
      },
    ]);
    expect(Math.abs(Date.now() - (received[0]?.enqueuedAt ?? 0))).toBeLessThan(10_000);
    expect(await pendingRows(config.stream, config.group)).toHaveLength(2);
    expect(await backend.ack(received)).toEqual([]);
    expect(await pendingRows(config.stream, config.group)).toEqual([]);
  });

  it('creates the group from id 0, so entries published before any consumer are delivered; BUSYGROUP is fine', async () => {
    const config = testConfig();
    const producer = pool.create(config);
    const early = delivery(1);
    await producer.publish(early);
    const consumer = pool.create(config);
    await consumer.ensureGroup();
    await consumer.ensureGroup();

    const [received] = await receiveCount(consumer, 1);
    expect(received?.deliveryId).toBe(early.deliveryId);
  });

  it('after a restart, first re-delivers what was delivered to its name before, without waiting for the claim time', async () => {
    // A claim time far beyond the test: only the own-pending re-read can bring these back.
    const config = testConfig({ claimIdleMs: 600_000 });
    const before = pool.create(config);
    const first = [delivery(1), delivery(2), delivery(3)];
    for (const message of first) await before.publish(message);
    const unfinished = await receiveCount(before, 3);
    await before.close();
    await pool.create(config).publish(delivery(4));

    const after = pool.create(config);
    const again = await after.receive(10, AbortSignal.timeout(5_000));
    expect(again.map((m) => [m.deliveryId, m.messageId, m.deliveryCount])).toEqual(
      unfinished.map((m) => [m.deliveryId, m.messageId, 2]),
    );
    const [fresh] = await receiveCount(after, 1);
    expect(fresh?.deliveryCount).toBe(1);
  });

  it('lets another consumer claim entries idle past claimIdle (delivery count 2), but not those kept alive', async () => {
    const config = testConfig({ claimIdleMs: 500 });
    const first = pool.create(config, { claimIntervalMs: 50 });
    const second = pool.create(
      { ...config, consumerName: `${config.consumerName}-b` },
      { claimIntervalMs: 50 },
    );
    await first.publish(delivery(1));
    await first.publish(delivery(2));
    const [kept, abandoned] = (await receiveCount(first, 2)) as [ReceivedMessage, ReceivedMessage];
    // A failed heartbeat shows up below as the entry changing hands.
    const heartbeat = setInterval(() => {
      first.keepAlive([kept]).catch(() => undefined);
    }, 100);
    try {
      const claimedAt = Date.now();
      const [claimed] = await receiveCount(second, 1);
      expect(claimed).toMatchObject({
        deliveryId: abandoned.deliveryId,
        messageId: abandoned.messageId,
        deliveryCount: 2,
      });
      expect(Date.now() - claimedAt).toBeGreaterThanOrEqual(300);
      // Several claim times more: the entry kept alive stays with the first consumer.
      const until = Date.now() + 4 * config.claimIdleMs;
      while (Date.now() < until) expect(await second.receive(10, AbortSignal.timeout(1_000))).toEqual([]);
      expect(await pendingRows(config.stream, config.group)).toContainEqual([
        kept.messageId,
        config.consumerName,
        expect.any(Number),
        1,
      ]);
    } finally {
      clearInterval(heartbeat);
    }
    expect(await first.ack([kept])).toEqual([]);
    expect(await second.ack([abandoned])).toEqual([]);
  });

  it('never hands out again an entry it is handling, even when its keep-alive lapsed', async () => {
    const config = testConfig({ claimIdleMs: 300 });
    const backend = pool.create(config, { claimIntervalMs: 20 });
    await backend.publish(delivery(1));
    const [inHand] = (await receiveCount(backend, 1)) as [ReceivedMessage];
    // Its own XAUTOCLAIM passes find the entry idle past claimIdle several times over.
    const until = Date.now() + 4 * config.claimIdleMs;
    while (Date.now() < until) expect(await backend.receive(10, AbortSignal.timeout(1_000))).toEqual([]);
    expect(await backend.ack([inHand])).toEqual([]);
  });
});

describe('redis streams back end: outcomes', () => {
  /** Receives until `message` comes back; returns how long after `since` it did. */
  async function redeliveredAfter(
    backend: ReturnType<typeof pool.create>,
    message: ReceivedMessage,
    since: number,
  ): Promise<{ elapsedMs: number; again: ReceivedMessage }> {
    const again = await waitUntil(
      async () =>
        (await backend.receive(10, AbortSignal.timeout(1_000))).find(
          (m) => m.messageId === message.messageId,
        ),
      { what: `entry ${message.messageId} to come back`, timeoutMs: 20_000, intervalMs: 0 },
    );
    return { elapsedMs: Date.now() - since, again };
  }

  it('retryLater: the entry is not redelivered before the delay and is redelivered after it, as a new delivery', async () => {
    const config = testConfig({ claimIdleMs: 5_000 });
    const backend = pool.create(config, { claimIntervalMs: 50 });
    await backend.publish(delivery(1));
    const [message] = (await receiveCount(backend, 1)) as [ReceivedMessage];

    const since = Date.now();
    await backend.retryLater(message, 1_500);
    const { elapsedMs, again } = await redeliveredAfter(backend, message, since);

    expect(elapsedMs).toBeGreaterThanOrEqual(1_500);
    expect(elapsedMs).toBeLessThan(1_500 + 1_000);
    expect(again).toMatchObject({ deliveryId: message.deliveryId, deliveryCount: 2 });
  });

  it('retryLater: a delay beyond claimIdle is capped at claimIdle', async () => {
    const config = testConfig({ claimIdleMs: 1_000 });
    const backend = pool.create(config, { claimIntervalMs: 50 });
    await backend.publish(delivery(1));
    const [message] = (await receiveCount(backend, 1)) as [ReceivedMessage];

    const since = Date.now();
    await backend.retryLater(message, 60_000);
    const { elapsedMs } = await redeliveredAfter(backend, message, since);

    expect(elapsedMs).toBeGreaterThanOrEqual(1_000);
    expect(elapsedMs).toBeLessThan(3_000);
  });

  it('deadLetter copies the entry with its reason to <stream>:dlq, then acknowledges it', async () => {
    const config = testConfig();
    const backend = pool.create(config);
    const original = delivery(1, { event: 'issues' });
    await backend.publish(original);
    const [message] = (await receiveCount(backend, 1)) as [ReceivedMessage];

    await backend.deadLetter(message, 'handler refused: unknown repository');

    expect(await entryFields(`${config.stream}:dlq`)).toEqual([
      {
        [ENTRY_FIELDS.deliveryId]: original.deliveryId,
        [ENTRY_FIELDS.body]: original.body,
        [ENTRY_FIELDS.attributes]: JSON.stringify(original.attributes),
        [DEAD_LETTER_FIELDS.reason]: 'handler refused: unknown repository',
        [DEAD_LETTER_FIELDS.originalId]: message.messageId,
        [DEAD_LETTER_FIELDS.deliveryCount]: '1',
        [DEAD_LETTER_FIELDS.group]: config.group,
        [DEAD_LETTER_FIELDS.consumer]: config.consumerName,
      },
    ]);
    expect(await pendingRows(config.stream, config.group)).toEqual([]);
    expect((await backend.stats()).deadLetterLength).toBe(1);
  });

  it('counts every delivery of an entry whose consumers crashed, server-side', async () => {
    const config = testConfig({ claimIdleMs: 200, maxDeliveries: 2 });
    const backend = pool.create(config, { claimIntervalMs: 20 });
    await backend.publish(delivery(1));
    const [first] = (await receiveCount(backend, 1)) as [ReceivedMessage];
    // Each "crash" leaves the entry pending; a restarted consumer gets it back. The limit is the
    // consumer pool's to apply (after its done check), so the back end still hands it out.
    await backend.close();
    const restarted = pool.create(config, { claimIntervalMs: 20 });
    const [second] = await receiveCount(restarted, 1);
    await restarted.close();
    const again = pool.create(config, { claimIntervalMs: 20 });
    const [third] = await receiveCount(again, 1);

    expect([first.deliveryCount, second?.deliveryCount, third?.deliveryCount]).toEqual([1, 2, 3]);
    expect(third?.messageId).toBe(first.messageId);
    expect(await entryFields(`${config.stream}:dlq`)).toEqual([]);
  });

  it('dead-letters a malformed entry instead of handing it to a handler', async () => {
    const config = testConfig();
    const backend = pool.create(config);
    await backend.ensureGroup();
    const badId = await withRedis(streamsRedisOptions(), (redis) =>
      redis.xadd(config.stream, '*', 'body', '{}'),
    );
    const good = delivery(1);
    await backend.publish(good);

    const [received] = await receiveCount(backend, 1);

    expect(received?.deliveryId).toBe(good.deliveryId);
    expect(await entryFields(`${config.stream}:dlq`)).toEqual([
      expect.objectContaining({
        body: '{}',
        [DEAD_LETTER_FIELDS.reason]: `malformed entry: field ${ENTRY_FIELDS.deliveryId} is missing or empty`,
        [DEAD_LETTER_FIELDS.originalId]: badId,
      }),
    ]);
  });

  it('acknowledges a batch in one call; after close every message is reported as not acknowledged', async () => {
    const config = testConfig();
    const backend = pool.create(config);
    for (let i = 0; i < 3; i++) await backend.publish(delivery(i));
    const received = await receiveCount(backend, 3);
    await backend.close();
    await backend.close();

    const failures = await backend.ack(received);
    expect(failures.map((f) => f.message)).toEqual(received);
    expect(failures.map((f) => (f.error as { code?: string }).code)).toEqual(
      Array(3).fill('REDIS_STREAMS_CLOSED'),
    );
    expect(await pendingRows(config.stream, config.group)).toHaveLength(3);
  });
});

describe('redis streams back end: publishing guarantees, aborts and lifecycle', () => {
  it('WAIT: rejects with a coded error naming the entry when fewer replicas acknowledged (standalone has none)', async () => {
    const config = testConfig({ waitReplicas: { replicas: 1, timeoutMs: 100 } });
    const backend = pool.create(config);

    const outcome = backend.publish(delivery(1));

    await expect(outcome).rejects.toThrow(
      new RegExp(
        `^REDIS_STREAMS_REPLICATION_SHORT: 0 of 1 replica.*stream ${config.stream}, .*ids \\d+-\\d+`,
      ),
    );
    // The primary has it: the refusal reports the write-loss window, it does not hide the entry.
    expect(await withRedis(streamsRedisOptions(), (redis) => redis.xlen(config.stream))).toBe(1);
  });

  it('publish honours its AbortSignal while waiting for replicas', async () => {
    const backend = pool.create(testConfig({ waitReplicas: { replicas: 1, timeoutMs: 10_000 } }));
    const started = Date.now();

    await expect(backend.publish(delivery(1), AbortSignal.timeout(200))).rejects.toMatchObject({
      code: 'REDIS_STREAMS_PUBLISH_ABORTED',
    });
    expect(Date.now() - started).toBeLessThan(2_000);
    await expect(backend.publish(delivery(2), AbortSignal.abort('budget spent'))).rejects.toThrow(
      /^REDIS_STREAMS_PUBLISH_ABORTED: XADD abandoned: budget spent/,
    );
  });

  it('an aborted receive resolves at once with nothing, and the next receive still gets new entries', async () => {
    const config = testConfig({ blockMs: 10_000 });
    const backend = pool.create(config);
    await backend.ensureGroup();
    const controller = new AbortController();
    const started = Date.now();
    const waiting = backend.receive(10, controller.signal);
    setTimeout(() => {
      controller.abort();
    }, 200);

    expect(await waiting).toEqual([]);
    expect(Date.now() - started).toBeLessThan(2_000);
    const message = delivery(1);
    await backend.publish(message);
    const [received] = await receiveCount(backend, 1, 15_000);
    expect(received?.deliveryId).toBe(message.deliveryId);
  });

  it('close ends every connection it opened: commands, appends and the blocking reader', async () => {
    const config = testConfig();
    const backend = pool.create(config);
    const connectionsOf = (consumer: string): Promise<string[]> =>
      withRedis(streamsRedisOptions(), async (redis) => {
        const list = await redis.client('LIST');
        return [...String(list).matchAll(/ name=(\S+)/g)]
          .map((m) => m[1] ?? '')
          .filter((name) => name.endsWith(`:${consumer}`))
          .sort();
      });
    await backend.publish(delivery(1));
    await receiveCount(backend, 1);
    expect(await connectionsOf(config.consumerName)).toEqual(
      ['stream-appends', 'stream-commands', 'stream-reads'].map(
        (role) => `queueshift:${role}:${config.consumerName}`,
      ),
    );

    await backend.close();

    await waitUntil(async () => (await connectionsOf(config.consumerName)).length === 0, {
      what: `the connections of ${config.consumerName} to close`,
      timeoutMs: 5_000,
    });
  });

  it('ping answers while open; every call after close is refused with a coded error', async () => {
    const backend = pool.create(testConfig());
    await backend.ping();
    await backend.close();
    await expect(backend.ping()).rejects.toMatchObject({ code: 'REDIS_STREAMS_CLOSED' });
    await expect(backend.publish(delivery(1))).rejects.toMatchObject({ code: 'REDIS_STREAMS_CLOSED' });
    await expect(backend.receive(1, AbortSignal.timeout(100))).rejects.toMatchObject({
      code: 'REDIS_STREAMS_CLOSED',
    });
  });
});
