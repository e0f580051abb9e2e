import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ProducerConfig, RedisStreamsConfig, SqsConfig } from '../../../src/adapter/config.ts';
import { createProducer } from '../../../src/adapter/factory.ts';
import type { PublishRefusal } from '../../../src/adapter/producer/publish-error.ts';
import type { Producer } from '../../../src/adapter/producer/producer.ts';
import { commitToLedger, startConsumer, testLogger } from './fixtures/consumer-harness.ts';
import { refusingPort, silentServer } from './fixtures/dead-endpoints.ts';
import { delivery } from './fixtures/publish.ts';
import { TestQueues } from './fixtures/test-queues.ts';

const BUDGET_MS = 2_000;
/** Scheduling slack on a loaded 2-core machine; the budget itself is what is asserted. */
const SLACK_MS = 300;

/**
 * The producer when its primary back end refuses or hangs: the webhook must answer within GitHub's
 * 10 s, so every publish ends within its budget, on the fallback when one is configured.
 */
describe('producer with a failing primary back end', () => {
  let queues: TestQueues;
  const producers: Producer[] = [];
  const cleanups: (() => Promise<void>)[] = [];

  beforeEach(async () => {
    queues = await TestQueues.create('dual');
  });

  afterEach(async () => {
    await Promise.all(producers.splice(0).map((producer) => producer.close()));
    await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
    await queues.cleanup();
  });

  function redisAt(port: number): RedisStreamsConfig {
    const config = queues.redisConfig();
    return {
      ...config,
      connection: { endpoint: { kind: 'standalone', address: { host: '127.0.0.1', port } } },
    };
  }

  function sqsAt(port: number): SqsConfig {
    const endpoint = `http://127.0.0.1:${port}`;
    return { ...queues.sqsConfig(), endpoint, queueUrl: `${endpoint}/000000000000/unreachable` };
  }

  function producer(config: Omit<ProducerConfig, 'publishTimeoutMs'>): Producer {
    const built = createProducer({ ...config, publishTimeoutMs: BUDGET_MS }, { logger: testLogger() });
    producers.push(built);
    return built;
  }

  async function timed<T>(work: () => Promise<T>): Promise<{ value: T; elapsedMs: number }> {
    const started = performance.now();
    const value = await work();
    return { value, elapsedMs: performance.now() - started };
  }

  it('publishes to the fallback when the primary refuses, and the delivery is handled from there', async () => {
    const publisher = producer({
      primary: 'sqs',
      fallback: 'redis',
      sqs: sqsAt(await refusingPort()),
      redis: queues.redisConfig(),
    });
    const refusals: PublishRefusal[] = [];
    publisher.on('refused', ({ refusal }) => refusals.push(refusal));
    const id = randomUUID();

    const { value: result, elapsedMs } = await timed(() => publisher.publish(delivery(id)));
    expect(result).toMatchObject({ backend: 'redis', usedFallback: true });
    expect(elapsedMs).toBeLessThan(BUDGET_MS + SLACK_MS);
    expect(refusals.map((r) => r.backend)).toEqual(['sqs']);

    const consumer = startConsumer(queues.consumerConfig(), async (_message, ctx) => {
      await commitToLedger(ctx, queues.names.ledgerKey);
      return { kind: 'ack' };
    });
    try {
      await expect.poll(async () => queues.ledger(), { timeout: 10_000 }).toEqual(new Map([[id, 1]]));
    } finally {
      await consumer.stop();
    }
  });

  it('gives a hung primary half the budget, then publishes to the fallback within the rest', async () => {
    const hung = await silentServer();
    cleanups.push(hung.close);
    const publisher = producer({
      primary: 'redis',
      fallback: 'sqs',
      redis: redisAt(hung.port),
      sqs: queues.sqsConfig(),
    });
    const refusals: PublishRefusal[] = [];
    publisher.on('refused', ({ refusal }) => refusals.push(refusal));

    const { value: result, elapsedMs } = await timed(() => publisher.publish(delivery()));
    expect(result).toMatchObject({ backend: 'sqs', usedFallback: true });
    expect(elapsedMs).toBeGreaterThanOrEqual(BUDGET_MS / 2 - 5);
    expect(elapsedMs).toBeLessThan(BUDGET_MS + SLACK_MS);
    expect(refusals).toMatchObject([{ backend: 'redis', timedOut: true }]);
  });

  it('when both refuse, fails within the budget with a coded error naming both causes', async () => {
    const publisher = producer({
      primary: 'redis',
      fallback: 'sqs',
      redis: redisAt(await refusingPort()),
      sqs: sqsAt(await refusingPort()),
    });
    const id = randomUUID();

    const started = performance.now();
    const failure = await publisher.publish(delivery(id)).catch((error: unknown) => error);
    expect(performance.now() - started).toBeLessThan(BUDGET_MS + SLACK_MS);
    expect(failure).toMatchObject({
      code: 'PUBLISH_REFUSED_BY_BOTH',
      deliveryId: id,
      refusals: [{ backend: 'redis' }, { backend: 'sqs' }],
    });
    expect((failure as Error).message).toMatch(new RegExp(`delivery ${id} was not published: redis.*; sqs`));
  });

  it('without a fallback, a refusal is reported as such, with the primary cause', async () => {
    const publisher = producer({ primary: 'sqs', sqs: sqsAt(await refusingPort()) });
    await expect(publisher.publish(delivery())).rejects.toMatchObject({
      code: 'PUBLISH_REFUSED',
      refusals: [{ backend: 'sqs' }],
    });
  });

  it('is ready while its primary or its fallback answers, and not when neither does', async () => {
    const refusing = await refusingPort();
    await expect(
      producer({
        primary: 'redis',
        fallback: 'sqs',
        redis: queues.redisConfig(),
        sqs: sqsAt(refusing),
      }).ready(),
    ).resolves.toBeUndefined();
    await expect(
      producer({
        primary: 'sqs',
        fallback: 'redis',
        sqs: sqsAt(refusing),
        redis: queues.redisConfig(),
      }).ready(),
    ).resolves.toBeUndefined();
    await expect(producer({ primary: 'sqs', sqs: sqsAt(refusing) }).ready()).rejects.toThrow();
  });
});
