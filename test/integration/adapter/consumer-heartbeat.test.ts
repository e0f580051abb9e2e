import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConsumerPool } from '../../../src/adapter/consumer/consumer-pool.ts';
import type { Handler } from '../../../src/adapter/consumer/handler.ts';
import { createIdempotencyStore } from '../../../src/adapter/factory.ts';
import { RedisStreamsBackend } from '../../../src/adapter/redis-streams/redis-streams-backend.ts';
import { SqsBackend } from '../../../src/adapter/sqs/sqs-backend.ts';
import { waitUntil } from '../../env/wait.ts';
import { commitToLedger } from './fixtures/consumer-harness.ts';
import { publishAll } from './fixtures/publish.ts';
import { TEST_TIMINGS, TEST_WORKERS, TestQueues } from './fixtures/test-queues.ts';
import { RecordingLogger } from './redis-streams-support.ts';

/** Enough messages that acknowledgements and heartbeats overlap many times over. */
const MESSAGES = 300;
/** A heartbeat far more often than production's (a third of the reservation): always one on the wire. */
const HEARTBEAT_MS = 2;
const CLAIM_INTERVAL_MS = 50;

/**
 * The heartbeat that keeps messages reserved and the settlement of those messages (ack, retry, dead
 * letter) go to the back end concurrently. A heartbeat that reaches it after an acknowledgement
 * names a message that is gone, which the workers reported as lost messages (SQS:
 * ReceiptHandleIsInvalid; streams: "entries in hand are no longer pending") during the migration
 * under load, and one that reaches it after a retry re-reserves the message for the whole
 * visibility timeout / claim time instead of the retry's delay.
 */
describe.each(['redis', 'sqs'] as const)('heartbeats and settlements of one consumer: %s', (kind) => {
  let queues: TestQueues;
  let logs: RecordingLogger;
  let stop: (() => Promise<void>) | undefined;

  beforeEach(async () => {
    queues = await TestQueues.create(kind);
    logs = new RecordingLogger();
  });

  afterEach(async () => {
    await stop?.();
    stop = undefined;
    await queues.cleanup();
  });

  function start(handler: Handler): ConsumerPool {
    const name = `heartbeat-${randomUUID()}`;
    const deps = { logger: logs.logger };
    // Claim passes often, so that a retried stream entry comes back as soon as its delay is over.
    const backend =
      kind === 'redis'
        ? new RedisStreamsBackend(queues.redisConfig(name), { ...deps, claimIntervalMs: CLAIM_INTERVAL_MS })
        : new SqsBackend(queues.sqsConfig(), deps);
    const pool = new ConsumerPool({
      sources: [{ backend, maxDeliveries: TEST_TIMINGS.maxDeliveries, keepAliveMs: HEARTBEAT_MS }],
      store: createIdempotencyStore(queues.idempotencyConfig(), name, deps),
      handler,
      workers: TEST_WORKERS,
      logger: logs.logger,
    });
    const controller = new AbortController();
    const running = pool.run(controller.signal);
    stop = async () => {
      controller.abort();
      await running;
      await pool.close();
    };
    return pool;
  }

  /** What the consumer and its back end said about messages it still held: nothing, when all is well. */
  function alarms(failures: readonly Error[]): string[] {
    return [
      ...failures.map((failure) => `${failure.message}: ${String(failure.cause)}`),
      ...logs.find(40, /no longer pending/).map((line) => `${line.msg} ${JSON.stringify(line['ids'])}`),
    ];
  }

  it('acknowledges every message with no heartbeat reporting a settled message as lost', async () => {
    const failures: Error[] = [];
    const pool = start(async (message, ctx) => {
      await commitToLedger(ctx, queues.names.ledgerKey);
      return { kind: 'ack' };
    });
    pool.on('failure', (error) => failures.push(error));
    const ids = Array.from({ length: MESSAGES }, () => randomUUID());
    await publishAll(queues.producerConfigs(), ids);

    await waitUntil(async () => (await queues.ledger()).size === MESSAGES, {
      what: `all ${MESSAGES} deliveries in the ledger`,
      timeoutMs: 60_000,
    });
    await waitUntil(async () => (await queues.backlog()) === 0, { what: 'every message acknowledged' });

    expect([...(await queues.ledger()).values()].filter((count) => count !== 1)).toEqual([]);
    expect(alarms(failures)).toEqual([]);
  });

  it("redelivers a retried message after the retry's delay, not after a heartbeat re-reserved it", async () => {
    const reservationMs =
      kind === 'sqs' ? TEST_TIMINGS.sqsVisibilitySeconds * 1_000 : TEST_TIMINGS.redisClaimIdleMs;
    const attempts = new Map<string, number[]>();
    const failures: Error[] = [];
    const pool = start(async (message, ctx) => {
      const seen = attempts.get(message.deliveryId) ?? [];
      seen.push(Date.now());
      attempts.set(message.deliveryId, seen);
      if (seen.length === 1) return { kind: 'retry', delayMs: 0, reason: 'try again at once' };
      await commitToLedger(ctx, queues.names.ledgerKey);
      return { kind: 'ack' };
    });
    pool.on('failure', (error) => failures.push(error));
    const ids = Array.from({ length: 100 }, () => randomUUID());
    await publishAll(queues.producerConfigs(), ids);

    await waitUntil(async () => (await queues.ledger()).size === ids.length, {
      what: `all ${ids.length} retried deliveries in the ledger`,
      timeoutMs: 60_000,
    });

    // A retry at once comes back within a poll (SQS) or a claim pass (streams); a heartbeat that
    // crossed it keeps the message away for a whole reservation.
    const late = [...attempts].filter(
      ([, [first = 0, second = Infinity]]) => second - first >= reservationMs,
    );
    expect(late.map(([id]) => id)).toEqual([]);
    expect(alarms(failures)).toEqual([]);
  });
});
