import { describe, expect, it } from 'vitest';
import { createProducer } from '../../../src/adapter/factory.ts';
import { RedisStreamsBackend, SqsBackend, type ReceivedMessage } from '../../../src/adapter/index.ts';
import { MOVER_CONSUMER } from '../../../src/operator/drain/redis-movers.ts';
import { RedisToSqsMover, type MoveReport } from '../../../src/operator/drain/redis-to-sqs-mover.ts';
import { required } from '../../env/test-environment.ts';
import { waitUntil } from '../../env/wait.ts';
import { testLogger } from '../adapter/fixtures/consumer-harness.ts';
import { delivery } from '../adapter/fixtures/publish.ts';
import { TcpProxy } from '../adapter/fixtures/tcp-proxy.ts';
import { closing, useDrainFixture, type DrainFixture as Fixture } from './drain-fixture.ts';

const ENTRIES = 60;
const BATCH = 25;

const newFixture = useDrainFixture();

/** This test's stream (with its group) holding ENTRIES deliveries, and its SQS queue. */
async function setUp(): Promise<Fixture> {
  const fixture = await newFixture();
  const { queues, redis } = fixture;
  await redis.xgroup('CREATE', queues.names.stream, queues.names.group, '0', 'MKSTREAM');
  const producer = createProducer(
    { primary: 'redis', publishTimeoutMs: 3_000, redis: queues.redisConfig() },
    { logger: testLogger() },
  );
  const ids = Array.from({ length: ENTRIES }, (_, i) => `${queues.names.id}-${String(i)}`);
  await Promise.all(ids.map((id) => producer.publish(delivery(id))));
  await producer.close();
  return fixture;
}

/** A mover as the operator builds one; `close` drops its connections, as a killed process does. */
function mover(
  { queues, closers }: Fixture,
  options: { claimIdleMs: number; sqsEndpoint?: string },
): { mover: RedisToSqsMover; close: () => Promise<void> } {
  const stream = new RedisStreamsBackend(
    { ...queues.redisConfig(MOVER_CONSUMER), claimIdleMs: options.claimIdleMs, blockMs: 100 },
    { logger: testLogger(), claimIntervalMs: 100 },
  );
  const queue = new SqsBackend(
    { ...queues.sqsConfig(), ...(options.sqsEndpoint !== undefined && { endpoint: options.sqsEndpoint }) },
    { logger: testLogger(), requestTimeoutMs: 1_000 },
  );
  const close = async (): Promise<void> => {
    await Promise.all([stream.close(), queue.close()]);
  };
  closers.push(close);
  return { mover: new RedisToSqsMover({ stream, queue, sendTimeoutMs: 2_000 }), close };
}

/** Everything now in the SQS queue, received once and deleted. */
async function drainQueue(fixture: Fixture): Promise<ReceivedMessage[]> {
  const reader = closing(
    fixture,
    new SqsBackend({ ...fixture.queues.sqsConfig(), waitTimeSeconds: 0 }, { logger: testLogger() }),
  );
  const all: ReceivedMessage[] = [];
  for (;;) {
    const batch = await reader.receive(10, new AbortController().signal);
    if (batch.length === 0) return all;
    all.push(...batch);
    expect(await reader.ack(batch)).toEqual([]);
  }
}

async function pendingOf(fixture: Fixture, consumer: string): Promise<number> {
  const { stream, group } = fixture.queues.names;
  const rows = await fixture.redis.xpending(stream, group, '-', '+', 1_000, consumer);
  return rows.length;
}

/** The group's lag + pending, as the operator's drain reads it. */
async function streamBacklog({ queues, redis }: Fixture): Promise<number> {
  const groups = (await redis.xinfo('GROUPS', queues.names.stream)) as unknown[][];
  const fields = groups.find((g) => g[g.indexOf('name') + 1] === queues.names.group) ?? [];
  const value = (name: string): number => Number(fields[fields.indexOf(name) + 1]);
  return value('lag') + value('pending');
}

/** Moves batch after batch until the group's backlog reads 0, keeping every report. */
async function moveAll(fixture: Fixture, target: RedisToSqsMover): Promise<MoveReport[]> {
  const reports: MoveReport[] = [];
  await waitUntil(
    async () => {
      reports.push(await target.move(BATCH, AbortSignal.timeout(5_000)));
      return (await streamBacklog(fixture)) === 0;
    },
    { what: 'the mover to empty the group’s backlog', timeoutMs: 30_000, intervalMs: 10 },
  );
  return reports;
}

describe('Redis to SQS mover', () => {
  it('moves new entries and those a stuck consumer holds, acknowledging each once SQS has it, deleting none', async () => {
    const f = await setUp();
    const { stream, group } = f.queues.names;
    // A consumer that read a third of the stream and will never settle it.
    await f.redis.xreadgroup('GROUP', group, 'stuck-worker', 'COUNT', ENTRIES / 3, 'STREAMS', stream, '>');
    const reports = await moveAll(f, mover(f, { claimIdleMs: 500 }).mover);

    expect(reports.every((r) => r.moved <= BATCH && r.error === undefined)).toBe(true);
    expect(reports.reduce((sum, r) => sum + r.moved, 0)).toBe(ENTRIES);
    expect(await pendingOf(f, 'stuck-worker')).toBe(0);
    const moved = await drainQueue(f);
    const expected = Array.from({ length: ENTRIES }, (_, i) => delivery(`${f.queues.names.id}-${String(i)}`));
    // The webhook's envelope as it was published: workers handle the copy like any SQS delivery.
    expect(
      moved
        .map(({ deliveryId, body, attributes }) => ({ deliveryId, body, attributes }))
        .sort((a, b) => a.deliveryId.localeCompare(b.deliveryId)),
    ).toEqual(expected.sort((a, b) => a.deliveryId.localeCompare(b.deliveryId)));
    // Acknowledged, never XDEL'd: the entries are still in the stream until trimming.
    expect(await f.redis.xlen(stream)).toBe(ENTRIES);
  });

  it('finishes, after being killed mid-move, what it read and never acknowledged', async () => {
    const f = await setUp();
    const sqs = required('sqs');
    const target = new URL(sqs.endpoint);
    const proxy = closing(f, await TcpProxy.start({ host: target.hostname, port: Number(target.port) }));
    // SQS unreachable for the first mover: it reads a batch and cannot send it.
    proxy.cutConnections();
    const first = mover(f, { claimIdleMs: 60_000, sqsEndpoint: `http://127.0.0.1:${String(proxy.port)}` });
    const report = await first.mover.move(BATCH, AbortSignal.timeout(5_000));
    expect(report).toMatchObject({ moved: 0, waiting: BATCH, error: expect.stringMatching(/SQS/) as string });
    expect(await pendingOf(f, MOVER_CONSUMER)).toBe(BATCH);
    // Killed: its connections go, its entries stay pending under the mover's consumer name.
    await first.close();

    // The next mover takes them back first, without waiting out the claim time (60 s here).
    const reports = await moveAll(f, mover(f, { claimIdleMs: 60_000 }).mover);
    expect(reports.reduce((sum, r) => sum + r.moved, 0)).toBe(ENTRIES);
    expect(await pendingOf(f, MOVER_CONSUMER)).toBe(0);
    const ids = (await drainQueue(f)).map((m) => m.deliveryId);
    expect(ids).toHaveLength(ENTRIES);
    expect(new Set(ids).size).toBe(ENTRIES);
  });
});
