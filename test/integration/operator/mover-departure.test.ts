import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { createProducer } from '../../../src/adapter/factory.ts';
import { queueMigrationSpec, type QueueMigrationSpec } from '../../../src/operator/api/spec-schema.ts';
import { AdapterQueueFigures } from '../../../src/operator/controller/queue-figures.ts';
import { MOVER_CONSUMER } from '../../../src/operator/drain/redis-movers.ts';
import { required } from '../../env/test-environment.ts';
import { waitUntil } from '../../env/wait.ts';
import { testLogger } from '../adapter/fixtures/consumer-harness.ts';
import { delivery } from '../adapter/fixtures/publish.ts';
import { TcpProxy } from '../adapter/fixtures/tcp-proxy.ts';
import { closing, useDrainFixture, type DrainFixture as Fixture } from './drain-fixture.ts';

const ENTRIES = 30;
const KEY = 'team/webhooks';
const MOVE = { maxEntries: 100, claimIdleMs: 60_000 };

const newFixture = useDrainFixture();

/** This test's stream holding ENTRIES deliveries, and a worker of the pipeline in its group. */
async function setUp(): Promise<Fixture> {
  const fixture = await newFixture();
  const { queues, redis } = fixture;
  const { stream, group } = queues.names;
  await redis.xgroup('CREATE', stream, group, '0', 'MKSTREAM');
  const producer = createProducer(
    { primary: 'redis', publishTimeoutMs: 3_000, redis: queues.redisConfig() },
    { logger: testLogger() },
  );
  for (let i = 0; i < ENTRIES; i++) await producer.publish(delivery(`${queues.names.id}-${String(i)}`));
  await producer.close();
  // Nothing pending under it either: the release must leave it alone all the same.
  await redis.xgroup('CREATECONSUMER', stream, group, 'worker-0');
  return fixture;
}

/** The migration's spec as the operator reads it, on this test's stream and queue (SQS through `sqsEndpoint`). */
function specOf({ queues }: Fixture, sqsEndpoint: string): QueueMigrationSpec {
  const { streams } = required('redis');
  return queueMigrationSpec.parse({
    producers: [{ name: 'webhook', container: 'webhook' }],
    consumers: [{ name: 'worker', container: 'worker' }],
    redis: {
      endpoint: { mode: 'standalone', address: `${streams.host}:${String(streams.port)}` },
      stream: queues.names.stream,
      group: queues.names.group,
    },
    sqs: { queueUrl: queues.names.queueUrl, region: required('sqs').region, endpoint: sqsEndpoint },
  });
}

/** The operator's queue figures, with what they log kept as parsed lines. */
function operatorFigures(fixture: Fixture): {
  figures: AdapterQueueFigures;
  logged: Record<string, unknown>[];
} {
  const logged: Record<string, unknown>[] = [];
  const logger = pino(
    { level: 'info' },
    {
      write: (line: string) => {
        logged.push(JSON.parse(line) as Record<string, unknown>);
      },
    },
  );
  return { figures: closing(fixture, new AdapterQueueFigures(logger)), logged };
}

/** The group's consumers with their pending counts, as XINFO CONSUMERS lists them. */
async function consumers({ queues, redis }: Fixture): Promise<Map<string, number>> {
  const rows = (await redis.xinfo('CONSUMERS', queues.names.stream, queues.names.group)) as unknown[][];
  return new Map(
    rows.map((row) => [String(row[row.indexOf('name') + 1]), Number(row[row.indexOf('pending') + 1])]),
  );
}

describe('releasing the rollback mover of a migration at rest', () => {
  it('deletes the mover consumer from the group once it moved everything, and no other consumer', async () => {
    const f = await setUp();
    const spec = specOf(f, required('sqs').endpoint);
    const { figures, logged } = operatorFigures(f);
    await waitUntil(
      async () => {
        await figures.moveRedisToSqs(KEY, spec, MOVE);
        return figures.redisMoves(KEY)?.moved === ENTRIES;
      },
      { what: 'the mover to move every unread entry', timeoutMs: 30_000, intervalMs: 10 },
    );
    expect(await consumers(f)).toEqual(
      new Map([
        [MOVER_CONSUMER, 0],
        ['worker-0', 0],
      ]),
    );

    await figures.forget(KEY);

    expect(await consumers(f)).toEqual(new Map([['worker-0', 0]]));
    expect(logged).toContainEqual(
      expect.objectContaining({
        migration: KEY,
        consumer: MOVER_CONSUMER,
        msg: 'deleted the mover consumer from the group',
      }),
    );
    // Released for good: a second release finds no mover and asks nothing of Redis.
    await figures.forget(KEY);
    expect(await consumers(f)).toEqual(new Map([['worker-0', 0]]));
  });

  it('keeps a mover consumer that still has pending entries, so they stay claimable, and says so', async () => {
    const f = await setUp();
    const target = new URL(required('sqs').endpoint);
    const proxy = closing(f, await TcpProxy.start({ host: target.hostname, port: Number(target.port) }));
    // SQS unreachable: the mover reads entries and cannot send them, so they stay pending under its name.
    proxy.cutConnections();
    const spec = specOf(f, `http://127.0.0.1:${String(proxy.port)}`);
    const { figures, logged } = operatorFigures(f);
    await figures.moveRedisToSqs(KEY, spec, { ...MOVE, maxEntries: 10 });
    expect(figures.redisMoves(KEY)).toMatchObject({
      moved: 0,
      error: expect.stringMatching(/SQS/) as string,
    });

    await figures.forget(KEY);

    expect(await consumers(f)).toEqual(
      new Map([
        [MOVER_CONSUMER, 10],
        ['worker-0', 0],
      ]),
    );
    expect(logged).toContainEqual(
      expect.objectContaining({
        level: 40,
        migration: KEY,
        consumer: MOVER_CONSUMER,
        pending: 10,
        msg: expect.stringMatching(/^kept the mover consumer/) as string,
      }),
    );
  });
});
