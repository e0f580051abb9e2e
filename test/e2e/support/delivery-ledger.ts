import type { Redis } from 'ioredis';
import { deliveryKeys } from '../../../src/adapter/idempotency/keys.ts';
import { waitUntil } from '../../env/wait.ts';
import type { LoadReport } from './steady-load.ts';

/** Where the workers keep their books, both on the idempotency Redis. */
export interface WorkerBooks {
  /** The ledger handler's hash: delivery id → times its commit landed. */
  ledgerKey: string;
  /** The workers' IDEMPOTENCY_KEY_PREFIX: every handled delivery has a done mark under it. */
  keyPrefix: string;
}

/** The invariants of a run, counted against the deliveries sent. */
export interface DeliveryAccount {
  sent: number;
  accepted: number;
  handled: number;
  /** Accepted with 2xx and never handled. */
  lost: string[];
  /** Handled more than once. */
  handledTwice: string[];
  refused: Readonly<Record<string, number>>;
}

/**
 * Accepted deliveries without a done mark. The ledger alone cannot tell: `ping` deliveries (four of
 * the examples) are handled with no side effect by design and never reach it, only their done mark.
 */
async function notDone(redis: Redis, keyPrefix: string, ids: readonly string[]): Promise<string[]> {
  if (ids.length === 0) return [];
  const batch = redis.pipeline();
  for (const id of ids) batch.exists(deliveryKeys(keyPrefix, id).done);
  const replies = (await batch.exec()) ?? [];
  return ids.filter((_, index) => replies[index]?.[1] !== 1);
}

/** Reads the workers' done marks and ledger (`HINCRBY ledger <deliveryId> 1` per commit) and counts. */
export async function account(redis: Redis, books: WorkerBooks, load: LoadReport): Promise<DeliveryAccount> {
  const ledger = await redis.hgetall(books.ledgerKey);
  const lost = await notDone(
    redis,
    books.keyPrefix,
    [...load.accepted].filter((id) => ledger[id] === undefined),
  );
  return {
    sent: load.sent,
    accepted: load.accepted.size,
    handled: load.accepted.size - lost.length,
    lost,
    handledTwice: Object.entries(ledger)
      .filter(([, count]) => Number(count) > 1)
      .map(([id]) => id),
    refused: load.refused,
  };
}

/** Waits until every accepted delivery is handled (in the ledger or done-marked) or the time is up, then counts. */
export async function settledAccount(
  redis: Redis,
  books: WorkerBooks,
  load: LoadReport,
  timeoutMs = 120_000,
): Promise<DeliveryAccount> {
  await waitUntil(async () => (await account(redis, books, load)).lost.length === 0, {
    what: 'every accepted delivery to be handled',
    timeoutMs,
    intervalMs: 500,
  }).catch(() => undefined);
  return account(redis, books, load);
}

/** One line for the run's report. */
export function describeAccount(result: DeliveryAccount): string {
  const refused = Object.entries(result.refused)
    .map(([reason, count]) => `${reason}×${count}`)
    .join(' ');
  return (
    `sent ${result.sent}, accepted ${result.accepted}, handled ${result.handled}, lost ${result.lost.length}, ` +
    `handled twice ${result.handledTwice.length}, non-2xx ${refused === '' ? 'none' : refused}`
  );
}
