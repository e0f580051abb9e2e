import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { pause, systemClock } from '../../../src/adapter/clock.ts';
import { IdempotencyError } from '../../../src/adapter/idempotency/idempotency-error.ts';
import { IdempotencyStore } from '../../../src/adapter/idempotency/idempotency-store.ts';
import { deliveryKeys } from '../../../src/adapter/idempotency/keys.ts';
import { required } from '../../env/test-environment.ts';

/** Loopback round trips and timer jitter on a shared machine; the PTTL itself is exact to 1 ms. */
const TOLERANCE_MS = 15;

/**
 * The operator dates probes' done marks from their time to live (retention − PTTL), so a round
 * trip is exact instead of known to the interval between two checks.
 */
describe('idempotency store: when a delivery was marked done', () => {
  const { idempotency } = required('redis');
  const prefix = `qs-done-time:${randomUUID()}:`;
  const admin = new Redis({ host: idempotency.host, port: idempotency.port });
  const store = new IdempotencyStore({
    client: new Redis({ host: idempotency.host, port: idempotency.port }),
    keyPrefix: prefix,
    leaseMs: 5_000,
    doneRetentionMs: 60_000,
    owner: 'worker-0',
    clock: systemClock,
  });

  afterAll(async () => {
    await store.close();
    const keys = await admin.keys(`${prefix}*`);
    if (keys.length > 0) await admin.del(...keys);
    await admin.quit();
  });

  /** Marks the delivery done and returns the interval the mark was written in. */
  async function markDone(deliveryId: string): Promise<{ from: number; to: number }> {
    const acquired = await store.acquire(deliveryId);
    if (acquired.state !== 'acquired') throw new Error(`expected a fresh lease, got ${acquired.state}`);
    const from = Date.now();
    expect(await store.markDone(acquired.lease)).toBe('marked');
    return { from, to: Date.now() };
  }

  it('dates marks written a known time ago, each delivery its own, in reads sent together', async () => {
    const [early, late, leasedOnly, unknown] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
    const earlyMarked = await markDone(early);
    // The elapsed time is what is measured, so this waits for time itself rather than a condition.
    await pause(systemClock, 400);
    const lateMarked = await markDone(late);
    await store.acquire(leasedOnly);
    await pause(systemClock, 300);

    const [earlyAt, lateAt, leasedAt, unknownAt] = await Promise.all(
      [early, late, leasedOnly, unknown].map((id) => store.markedDoneAt(id)),
    );
    expect(earlyAt).toBeGreaterThanOrEqual(earlyMarked.from - TOLERANCE_MS);
    expect(earlyAt).toBeLessThanOrEqual(earlyMarked.to + TOLERANCE_MS);
    expect(lateAt).toBeGreaterThanOrEqual(lateMarked.from - TOLERANCE_MS);
    expect(lateAt).toBeLessThanOrEqual(lateMarked.to + TOLERANCE_MS);
    expect((lateAt ?? 0) - (earlyAt ?? 0)).toBeGreaterThanOrEqual(400 - TOLERANCE_MS);
    // A lease is not a done mark, and an id nobody handled has none.
    expect(leasedAt).toBeUndefined();
    expect(unknownAt).toBeUndefined();
  });

  it('refuses, with a coded error, to date a mark without expiry (no worker writes one)', async () => {
    const persisted = randomUUID();
    await markDone(persisted);
    await admin.persist(deliveryKeys(prefix, persisted).done);
    const refusal = await store.markedDoneAt(persisted).catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(IdempotencyError);
    expect(refusal).toMatchObject({ code: 'IDEMPOTENCY_UNEXPECTED_REPLY', deliveryId: persisted });
  });
});
