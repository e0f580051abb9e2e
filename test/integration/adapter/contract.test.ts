import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { WorkerPoolConfig } from '../../../src/adapter/config.ts';
import { systemClock } from '../../../src/adapter/clock.ts';
import { DeliveryContext } from '../../../src/adapter/consumer/delivery-context.ts';
import type { Handler } from '../../../src/adapter/consumer/handler.ts';
import { LeaseRenewer } from '../../../src/adapter/consumer/lease-renewer.ts';
import { CommitTransaction } from '../../../src/adapter/idempotency/commit-transaction.ts';
import { IdempotencyStore, type Lease } from '../../../src/adapter/idempotency/idempotency-store.ts';
import { required } from '../../env/test-environment.ts';
import { ManualClock } from '../../support/manual-clock.ts';
import { waitUntil } from '../../env/wait.ts';
import {
  CallCounter,
  commitToLedger,
  startConsumer,
  type RunningConsumer,
} from './fixtures/consumer-harness.ts';
import { publishAll } from './fixtures/publish.ts';
import { TEST_TIMINGS, TEST_WORKERS, TestQueues } from './fixtures/test-queues.ts';

/**
 * The adapter's contract, held against every queue type through the same factory: what a worker
 * relies on whichever back end (or both) it consumes.
 */
describe.each(['sqs', 'redis', 'dual'] as const)('queue contract: %s', (kind) => {
  let queues: TestQueues;
  const consumers: RunningConsumer[] = [];
  const calls = new CallCounter();

  beforeEach(async () => {
    queues = await TestQueues.create(kind);
  });

  afterEach(async () => {
    await Promise.all(consumers.splice(0).map((consumer) => consumer.stop()));
    await queues.cleanup();
  });

  function consume(handler: Handler, options: { workers?: Partial<WorkerPoolConfig> } = {}): RunningConsumer {
    const consumer = startConsumer(queues.consumerConfig(options), async (message, ctx) => {
      calls.record(message.deliveryId);
      return handler(message, ctx);
    });
    consumers.push(consumer);
    return consumer;
  }

  /** A handler that records the delivery in the ledger through the commit API, then acks. */
  const ledgerHandler: Handler = async (_message, ctx) => {
    await commitToLedger(ctx, queues.names.ledgerKey);
    return { kind: 'ack' };
  };

  /** A second worker's view of the idempotency store, as another pod would hold it. */
  function otherWorker(): IdempotencyStore {
    const { idempotency } = required('redis');
    const config = queues.idempotencyConfig();
    return new IdempotencyStore({
      client: new Redis({ host: idempotency.host, port: idempotency.port }),
      keyPrefix: config.keyPrefix,
      leaseMs: config.leaseMs,
      doneRetentionMs: config.doneRetentionMs,
      owner: 'other-worker',
    });
  }

  /** One delivery id per back end the consumer reads (`publishAll` sends the n-th to the n-th). */
  const onePerBackend = (): string[] => queues.producerConfigs().map(() => randomUUID());

  it('delivers every published message and handles each exactly once, never holding more than its slots', async () => {
    const ids = Array.from({ length: 200 }, () => randomUUID());
    const consumer = consume(ledgerHandler);
    await publishAll(queues.producerConfigs(), ids);

    await waitUntil(async () => (await queues.ledger()).size === ids.length, {
      what: `all ${ids.length} deliveries in the ledger`,
    });
    await waitUntil(() => consumer.log.ids('acked').length === ids.length, {
      what: 'every message acknowledged',
    });

    const ledger = await queues.ledger();
    expect([...ledger.keys()].sort()).toEqual([...ids].sort());
    expect([...ledger.values()].every((count) => count === 1)).toBe(true);
    expect(new Set(consumer.log.ids('acked')).size).toBe(ids.length);
    expect(consumer.log.maxHeld).toBeLessThanOrEqual(TEST_WORKERS.count);
    expect(await queues.backlog()).toBe(0);
  });

  it('retries a message whose handler threw, then handles it once', async () => {
    const ids = onePerBackend();
    const consumer = consume(async (message, ctx) => {
      if (calls.of(message.deliveryId) === 1) throw new Error('upstream API answered 502');
      return ledgerHandler(message, ctx);
    });
    await publishAll(queues.producerConfigs(), ids);

    await waitUntil(() => ids.every((id) => consumer.log.count('acked', id) === 1), {
      what: 'the retried messages acknowledged',
    });
    for (const id of ids) {
      expect(calls.of(id)).toBe(2);
      expect(consumer.log.count('retried', id)).toBe(1);
    }
    expect(await queues.ledger()).toEqual(new Map(ids.map((id) => [id, 1])));
  });

  it(`dead-letters a poison message after ${TEST_TIMINGS.maxDeliveries} deliveries, and a dead one at once, with their reasons`, async () => {
    const poisons = onePerBackend();
    const deads = onePerBackend();
    const consumer = consume((message) =>
      Promise.resolve(
        deads.includes(message.deliveryId)
          ? { kind: 'dead', reason: 'payload names no repository' }
          : { kind: 'retry', delayMs: 0, reason: 'cannot parse the payload' },
      ),
    );
    await publishAll(queues.producerConfigs(), [...poisons, ...deads]);

    const total = poisons.length + deads.length;
    await waitUntil(() => consumer.log.ids('dead-lettered').length === total, {
      what: 'every message dead-lettered',
    });
    for (const id of poisons) expect(calls.of(id)).toBe(TEST_TIMINGS.maxDeliveries);
    for (const id of deads) expect(calls.of(id)).toBe(1);
    const letters = await waitUntil(
      async () => {
        const found = await queues.deadLetters();
        return found.length === total && found;
      },
      { what: `${total} entries in the dead-letter queues` },
    );
    expect(letters).toEqual(
      expect.arrayContaining([
        ...poisons.map((deliveryId) => ({
          deliveryId,
          reason: `gave up after ${TEST_TIMINGS.maxDeliveries} deliveries: cannot parse the payload`,
        })),
        ...deads.map((deliveryId) => ({ deliveryId, reason: 'payload names no repository' })),
      ]),
    );
    expect(await queues.backlog()).toBe(0);
  });

  it('aborts a handler past its timeout and retries the message', async () => {
    const ids = onePerBackend();
    const abortReasons: string[] = [];
    const consumer = consume(
      async (message, ctx) => {
        if (calls.of(message.deliveryId) === 1) {
          await new Promise((resolve) => {
            ctx.signal.addEventListener('abort', resolve, { once: true });
          });
          abortReasons.push(String(ctx.signal.reason));
          return { kind: 'ack' };
        }
        return ledgerHandler(message, ctx);
      },
      { workers: { handlerTimeoutMs: 300 } },
    );
    await publishAll(queues.producerConfigs(), ids);

    await waitUntil(() => ids.every((id) => consumer.log.count('acked', id) === 1), {
      what: 'the timed-out messages handled on their second attempt',
    });
    expect(abortReasons).toEqual(ids.map(() => 'Error: handler timeout'));
    for (const id of ids) expect(consumer.log.count('retried', id)).toBe(1);
    expect(await queues.ledger()).toEqual(new Map(ids.map((id) => [id, 1])));
  });

  it(`dead-letters, without running it, a message whose ${TEST_TIMINGS.maxDeliveries} deliveries crashed consumers spent`, async () => {
    const ids = onePerBackend();
    await publishAll(queues.producerConfigs(), ids);
    await queues.spendDeliveries(TEST_TIMINGS.maxDeliveries);
    consume(ledgerHandler);

    const letters = await waitUntil(
      async () => {
        const found = await queues.deadLetters();
        return found.length === ids.length && found;
      },
      { what: 'the exhausted messages dead-lettered' },
    );
    expect(letters).toEqual(
      expect.arrayContaining(
        ids.map((deliveryId) => ({
          deliveryId,
          reason: `exceeded ${TEST_TIMINGS.maxDeliveries} deliveries without an outcome (handlers crashed or stalled)`,
        })),
      ),
    );
    for (const id of ids) expect(calls.of(id)).toBe(0);
    await waitUntil(async () => (await queues.backlog()) === 0, { what: 'the exhausted messages removed' });
  });

  it('on shutdown, acknowledges only finished work, gives back what never started, leaves the rest to the next consumer', async () => {
    const during = randomUUID();
    const lates = onePerBackend();
    const spares = [randomUUID(), randomUUID()];
    let finishDuring = (): void => undefined;
    const duringMayFinish = new Promise<void>((resolve) => (finishDuring = resolve));
    const first = consume(
      async (message, ctx) => {
        if (message.deliveryId === during) await duringMayFinish;
        if (lates.includes(message.deliveryId)) {
          // Outlives the shutdown grace: the pool gives up on it and aborts the signal.
          await new Promise((resolve) => {
            ctx.signal.addEventListener('abort', resolve, { once: true });
          });
          return { kind: 'retry', delayMs: 0, reason: 'aborted' };
        }
        return ledgerHandler(message, ctx);
      },
      // Every slot busy with `during` and `lates`; one more message may wait prefetched.
      { workers: { count: 1 + lates.length, prefetch: 1, shutdownGraceMs: 1_000 } },
    );
    await publishAll(queues.producerConfigs(), [during, ...lates]);
    await waitUntil(() => [during, ...lates].every((id) => calls.of(id) === 1), {
      what: 'every handler slot busy',
    });
    await publishAll(queues.producerConfigs(), spares);
    const prefetched = await waitUntil(() => spares.find((id) => first.log.count('received', id) === 1), {
      what: 'a spare message prefetched',
    });

    const stopped = first.stop();
    finishDuring();
    await stopped;
    expect(first.log.ids('acked')).toEqual([during]);
    expect(first.log.count('retried', prefetched)).toBe(1);
    expect(calls.of(prefetched)).toBe(0);
    for (const id of lates) expect(first.log.count('handled', id)).toBe(0);

    const second = consume(ledgerHandler);
    await waitUntil(() => [...lates, ...spares].every((id) => second.log.count('acked', id) === 1), {
      what: 'the unfinished and unstarted messages handled by the next consumer',
      timeoutMs: 20_000,
    });
    expect(calls.of(during)).toBe(1);
    expect(await queues.ledger()).toEqual(new Map([during, ...lates, ...spares].map((id) => [id, 1])));
  });

  it('acknowledges a delivery that is already done without running its handler', async () => {
    const ids = onePerBackend();
    const worker = otherWorker();
    try {
      for (const id of ids) {
        const acquired = await worker.acquire(id);
        if (acquired.state !== 'acquired') throw new Error(`expected a fresh lease, got ${acquired.state}`);
        expect(await worker.markDone(acquired.lease)).toBe('marked');
      }
    } finally {
      await worker.close();
    }
    const consumer = consume(ledgerHandler);
    await publishAll(queues.producerConfigs(), ids);

    await waitUntil(() => ids.every((id) => consumer.log.count('acked', id) === 1), {
      what: 'the done deliveries acknowledged',
    });
    for (const id of ids) {
      expect(consumer.log.count('skipped', id)).toBe(1);
      expect(calls.of(id)).toBe(0);
    }
    expect((await queues.ledger()).size).toBe(0);
    expect(await queues.backlog()).toBe(0);
  });

  it('does not steal a lease held by a live worker: retries later, never acks, handles once after', async () => {
    const ids = onePerBackend();
    const worker = otherWorker();
    const renewers: LeaseRenewer[] = [];
    try {
      const leases: Lease[] = [];
      for (const id of ids) {
        const acquired = await worker.acquire(id);
        if (acquired.state !== 'acquired') throw new Error(`expected a fresh lease, got ${acquired.state}`);
        leases.push(acquired.lease);
        const renewer = new LeaseRenewer({
          store: worker,
          lease: acquired.lease,
          clock: systemClock,
          onLost: () => undefined,
          onError: () => undefined,
        });
        renewer.start();
        renewers.push(renewer);
      }
      const consumer = consume(ledgerHandler);
      await publishAll(queues.producerConfigs(), ids);
      await waitUntil(() => ids.every((id) => consumer.log.count('retried', id) >= 1), {
        what: 'the held deliveries retried',
      });
      for (const id of ids) {
        expect(consumer.log.count('skipped', id)).toBeGreaterThanOrEqual(1);
        expect(consumer.log.count('acked', id)).toBe(0);
        expect(calls.of(id)).toBe(0);
      }

      for (const renewer of renewers) renewer.stop();
      for (const lease of leases) expect(await worker.release(lease)).toBe(true);
      await waitUntil(() => ids.every((id) => consumer.log.count('acked', id) === 1), {
        what: 'the deliveries handled once their leases were released',
        timeoutMs: 20_000,
      });
      for (const id of ids) expect(calls.of(id)).toBe(1);
      expect(await queues.ledger()).toEqual(new Map(ids.map((id) => [id, 1])));
    } finally {
      for (const renewer of renewers) renewer.stop();
      await worker.close();
    }
  });
});

/**
 * The idempotency store every back end shares: what each script guarantees when two workers meet
 * on one delivery id. Runs against the environment's idempotency Redis under a prefix of its own.
 */
describe('idempotency store contract', () => {
  const { idempotency } = required('redis');
  const prefix = `qs-contract:${randomUUID()}:`;
  const leaseMs = 2_000;
  const redis = new Redis({ host: idempotency.host, port: idempotency.port });
  const stores: IdempotencyStore[] = [];

  function worker(owner: string): IdempotencyStore {
    const store = new IdempotencyStore({
      client: new Redis({ host: idempotency.host, port: idempotency.port }),
      keyPrefix: `${prefix}idem:`,
      leaseMs,
      doneRetentionMs: 60_000,
      owner,
    });
    stores.push(store);
    return store;
  }

  async function lease(store: IdempotencyStore, deliveryId: string = randomUUID()): Promise<Lease> {
    const acquired = await store.acquire(deliveryId);
    if (acquired.state !== 'acquired') throw new Error(`expected a fresh lease, got ${acquired.state}`);
    return acquired.lease;
  }

  const leaseKey = (id: string): string => `${prefix}idem:{${id}}:lease`;
  const doneKey = (id: string): string => `${prefix}idem:{${id}}:done`;

  afterAll(async () => {
    await Promise.all(stores.map((store) => store.close()));
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
  });

  it('gives a delivery to one worker at a time and tells the other how long the lease has left', async () => {
    const [a, b] = [worker('a'), worker('b')];
    const held = await lease(a);
    const second = await b.acquire(held.deliveryId);
    expect(second.state).toBe('held');
    expect(second.state === 'held' && second.remainingMs).toBeGreaterThan(0);
    expect(second.state === 'held' && second.remainingMs).toBeLessThanOrEqual(leaseMs);
    expect(await redis.get(leaseKey(held.deliveryId))).toMatch(/^a:/);
  });

  it('compares the token on renew and release: only the holder extends or frees its lease', async () => {
    const [a, b] = [worker('a'), worker('b')];
    const held = await lease(a);
    const impostor: Lease = { deliveryId: held.deliveryId, token: 'b:not-the-token' };
    expect(await b.release(impostor)).toBe(false);
    expect(await b.renew(impostor)).toBe(false);
    expect(await redis.exists(leaseKey(held.deliveryId))).toBe(1);

    await redis.pexpire(leaseKey(held.deliveryId), 100);
    expect(await a.renew(held)).toBe(true);
    expect(await redis.pttl(leaseKey(held.deliveryId))).toBeGreaterThan(1_000);
    expect(await a.release(held)).toBe(true);
    expect((await b.acquire(held.deliveryId)).state).toBe('acquired');
  });

  it('marks done under the token: kept for the retention, then every acquire answers done', async () => {
    const a = worker('a');
    const held = await lease(a);
    expect(await a.markDone(held)).toBe('marked');
    expect(await redis.exists(leaseKey(held.deliveryId))).toBe(0);
    expect(await redis.pttl(doneKey(held.deliveryId))).toBeGreaterThan(59_000);
    const b = worker('b');
    expect(await b.acquire(held.deliveryId)).toEqual({ state: 'done' });
    // A retry of a mark that landed (its reply lost to a timeout) is still that worker's success.
    expect(await a.markDone(held)).toBe('marked');
    expect(await b.markDone({ deliveryId: held.deliveryId, token: 'b:late' })).toBe('already-done');
  });

  it('still marks a success done when its lease expired unclaimed, but not once another worker holds it', async () => {
    const [a, b] = [worker('a'), worker('b')];
    const expired = await lease(a);
    await redis.del(leaseKey(expired.deliveryId));
    expect(await a.markDone(expired)).toBe('marked');

    const taken = await lease(a);
    await redis.del(leaseKey(taken.deliveryId));
    const theirs = await lease(b, taken.deliveryId);
    expect(await a.markDone(taken)).toBe('lost');
    expect(await redis.exists(doneKey(taken.deliveryId))).toBe(0);
    expect(await redis.get(leaseKey(taken.deliveryId))).toBe(theirs.token);
  });

  it('commits effects, done mark and lease release in one step', async () => {
    const a = worker('a');
    const held = await lease(a);
    const tx = new CommitTransaction(held.deliveryId)
      .hincrby(`${prefix}ledger`, held.deliveryId, 1)
      .set(`${prefix}last`, held.deliveryId)
      .sadd(`${prefix}seen`, held.deliveryId);
    expect(await a.commit(held, tx.operations)).toBe('committed');
    expect(await redis.hget(`${prefix}ledger`, held.deliveryId)).toBe('1');
    expect(await redis.get(`${prefix}last`)).toBe(held.deliveryId);
    expect(await redis.sismember(`${prefix}seen`, held.deliveryId)).toBe(1);
    expect(await redis.exists(doneKey(held.deliveryId))).toBe(1);
    expect(await redis.exists(leaseKey(held.deliveryId))).toBe(0);
  });

  it('applies a commit once even when it is sent again after landing', async () => {
    const a = worker('a');
    const held = await lease(a);
    const tx = new CommitTransaction(held.deliveryId).hincrby(`${prefix}ledger`, held.deliveryId, 1);
    expect(await a.commit(held, tx.operations)).toBe('committed');
    expect(await a.commit(held, tx.operations)).toBe('committed');
    expect(await redis.hget(`${prefix}ledger`, held.deliveryId)).toBe('1');
  });

  it.each([
    ['the delivery is already done', 'already-done'],
    ['another worker holds the lease', 'lost'],
  ] as const)('writes nothing when %s', async (_case, expected) => {
    const [a, b] = [worker('a'), worker('b')];
    const mine = await lease(a);
    await redis.del(leaseKey(mine.deliveryId));
    const theirs = await lease(b, mine.deliveryId);
    if (expected === 'already-done') await b.markDone(theirs);
    const key = `${prefix}refused:${randomUUID()}`;
    const tx = new CommitTransaction(mine.deliveryId).incrby(key, 1);
    expect(await a.commit(mine, tx.operations)).toBe(expected);
    expect(await redis.exists(key)).toBe(0);
  });

  it('refuses, before any write, a commit Redis could only apply half-way', async () => {
    const a = worker('a');
    const held = await lease(a);
    const text = `${prefix}text:${randomUUID()}`;
    const counter = `${prefix}counter:${randomUUID()}`;
    await redis.set(text, 'not a hash');
    const tx = new CommitTransaction(held.deliveryId).incrby(counter, 5).hincrby(text, 'field', 1);
    await expect(a.commit(held, tx.operations)).rejects.toMatchObject({
      code: 'IDEMPOTENCY_COMMIT_FAILED',
      message: expect.stringContaining(`hincrby needs a hash but ${text} holds a string`) as string,
    });
    expect(await redis.exists(counter)).toBe(0);
    expect(await redis.exists(doneKey(held.deliveryId))).toBe(0);
    expect(await redis.get(leaseKey(held.deliveryId))).toBe(held.token);
  });

  it('gives a handler one commit per attempt, and none once the attempt is over', async () => {
    const a = worker('a');
    const controller = new AbortController();
    const context = new DeliveryContext(await lease(a), a, controller.signal);
    await context.commit((tx) => tx.incrby(`${prefix}once`, 1));
    await expect(context.commit((tx) => tx.incrby(`${prefix}once`, 1))).rejects.toMatchObject({
      code: 'IDEMPOTENCY_INVALID_COMMIT',
    });
    expect(await context.commitState()).toBe('committed');

    const aborted = new AbortController();
    const late = new DeliveryContext(await lease(a), a, aborted.signal);
    aborted.abort(new Error('handler timeout'));
    await expect(late.commit((tx) => tx.incrby(`${prefix}once`, 1))).rejects.toMatchObject({
      code: 'IDEMPOTENCY_COMMIT_REFUSED',
    });
    expect(await redis.get(`${prefix}once`)).toBe('1');
  });

  it('renews a running lease every third of the lease time, and reports it lost once another worker has it', async () => {
    const [a, b] = [worker('a'), worker('b')];
    const held = await lease(a);
    const clock = new ManualClock();
    let lost = false;
    const renewer = new LeaseRenewer({
      store: a,
      lease: held,
      clock,
      onLost: () => (lost = true),
      onError: (error) => {
        throw error;
      },
    });
    renewer.start();
    try {
      await redis.pexpire(leaseKey(held.deliveryId), 300);
      await clock.advance(leaseMs / 3);
      await waitUntil(async () => (await redis.pttl(leaseKey(held.deliveryId))) > 1_000, {
        what: 'the lease renewed to its full time',
      });

      await redis.del(leaseKey(held.deliveryId));
      await lease(b, held.deliveryId);
      await clock.advance(leaseMs / 3);
      await waitUntil(() => lost, { what: 'the renewer to report the lease lost' });
    } finally {
      renewer.stop();
    }
  });
});
