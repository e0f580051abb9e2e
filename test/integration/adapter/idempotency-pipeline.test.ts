import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../../src/adapter/clock.ts';
import { CoalescingClock } from '../../../src/adapter/coalescing-clock.ts';
import { IdempotencyStore } from '../../../src/adapter/idempotency/idempotency-store.ts';
import { required } from '../../env/test-environment.ts';
import { silentServer } from './fixtures/dead-endpoints.ts';

/**
 * The store sends the scripts of many deliveries together (one pipeline per event-loop turn, each
 * script over one delivery's keys). Batching must not blur deliveries into each other, survive a
 * server that lost its script cache, and still fail a call the server never answers.
 */
describe('idempotency store: batched script calls', () => {
  const { idempotency } = required('redis');
  const prefix = `qs-pipeline:${randomUUID()}:`;
  const redis = new Redis({ host: idempotency.host, port: idempotency.port });
  const stores: IdempotencyStore[] = [];

  function store(owner: string, client = new Redis({ host: idempotency.host, port: idempotency.port })) {
    const created = new IdempotencyStore({
      client,
      keyPrefix: `${prefix}idem:`,
      leaseMs: 5_000,
      doneRetentionMs: 60_000,
      owner,
      commandTimeoutMs: 300,
      clock: new CoalescingClock(systemClock),
    });
    stores.push(created);
    return created;
  }

  afterAll(async () => {
    await Promise.all(stores.map((s) => s.close().catch(() => undefined)));
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
  });

  it('calls sent together are answered each for its own delivery, a refusal failing only its own', async () => {
    const [a, b] = [store('a'), store('b')];
    const [done, held] = [randomUUID(), randomUUID()];
    const doneLease = await a.acquire(done);
    if (doneLease.state !== 'acquired') throw new Error('expected a fresh lease');
    expect(await a.markDone(doneLease.lease)).toBe('marked');
    expect((await b.acquire(held)).state).toBe('acquired');
    const fresh = Array.from({ length: 40 }, () => randomUUID());

    // One turn: 40 fresh leases, one done delivery, one held by b, and a commit the script refuses.
    const refusedLease = await a.acquire(randomUUID());
    if (refusedLease.state !== 'acquired') throw new Error('expected a fresh lease');
    await redis.set(`${prefix}not-a-counter`, 'text');
    const results = await Promise.allSettled([
      ...fresh.map((id) => a.acquire(id)),
      a.acquire(done),
      a.acquire(held),
      a.commit(refusedLease.lease, [{ command: 'incrby', key: `${prefix}not-a-counter`, args: ['1'] }]),
    ]);

    const states = results.map((r) =>
      r.status === 'fulfilled' ? (r.value as { state?: string }).state : r.status,
    );
    expect(states.slice(0, 40)).toEqual(fresh.map(() => 'acquired'));
    expect(states.slice(40, 42)).toEqual(['done', 'held']);
    expect(results[42]).toMatchObject({ status: 'rejected', reason: { code: 'IDEMPOTENCY_COMMIT_FAILED' } });
    for (const id of fresh) expect(await redis.get(`${prefix}idem:{${id}}:lease`)).toMatch(/^a:/);
  });

  it('after the server lost its scripts (a restart, a failover), batched calls load them again and succeed', async () => {
    const a = store('a');
    expect((await a.acquire(randomUUID())).state).toBe('acquired');
    // Every client of this server sees NOSCRIPT once; the store's own fallback is what is tested.
    await redis.script('FLUSH');
    const ids = Array.from({ length: 20 }, () => randomUUID());
    const acquired = await Promise.all(ids.map((id) => a.acquire(id)));
    expect(acquired.map((r) => r.state)).toEqual(ids.map(() => 'acquired'));
    const leases = acquired.flatMap((r) => (r.state === 'acquired' ? [r.lease] : []));
    expect(await Promise.all(leases.map((lease) => a.markDone(lease)))).toEqual(ids.map(() => 'marked'));
  });

  it('a store that never answers fails each call with IDEMPOTENCY_TIMEOUT, not holding the caller', async () => {
    const hung = await silentServer();
    try {
      const client = new Redis({ host: '127.0.0.1', port: hung.port, lazyConnect: true });
      client.on('error', () => undefined);
      const silent = store('a', client);
      const started = Date.now();
      const results = await Promise.allSettled([silent.acquire('d-1'), silent.acquire('d-2')]);
      expect(results).toMatchObject([
        { status: 'rejected', reason: { code: 'IDEMPOTENCY_TIMEOUT', deliveryId: 'd-1' } },
        { status: 'rejected', reason: { code: 'IDEMPOTENCY_TIMEOUT', deliveryId: 'd-2' } },
      ]);
      expect(Date.now() - started).toBeLessThan(2_000);
      client.disconnect();
    } finally {
      await hung.close();
    }
  });
});
