import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { CommitOperation } from './commit-transaction.ts';
import { IdempotencyError } from './idempotency-error.ts';
import { deliveryKeys } from './keys.ts';
import type { LuaScript } from './lua-script.ts';
import { ACQUIRE, COMMIT, MARK_DONE, RELEASE, RENEW } from './scripts.ts';

/** A worker's claim on one delivery: the token proves ownership on every later step. */
export interface Lease {
  readonly deliveryId: string;
  readonly token: string;
}

export type AcquireResult =
  | { state: 'acquired'; lease: Lease }
  | { state: 'done' }
  /** Another worker holds the lease; `remainingMs` is how long until it expires unless renewed. */
  | { state: 'held'; remainingMs: number };

/** How a finishing step (done mark or commit) ended. `lost`: another worker holds the lease now. */
export type FinishResult<Landed extends string> = Landed | 'already-done' | 'lost';

export interface IdempotencyStoreOptions {
  /** A client of the idempotency Redis; the store owns it and closes it. */
  client: Redis;
  keyPrefix: string;
  leaseMs: number;
  doneRetentionMs: number;
  /** Who takes leases (the consumer name): written into tokens so a held lease names its worker. */
  owner: string;
}

/**
 * Leases and done marks per delivery id (DESIGN.md §1 "Idempotency"). Every step that depends on
 * who holds a lease compares the token inside one script, so no check and write can interleave with
 * another worker's.
 */
export class IdempotencyStore {
  readonly leaseMs: number;
  private readonly client: Redis;
  private readonly keyPrefix: string;
  private readonly doneRetentionMs: number;
  private readonly owner: string;

  constructor(options: IdempotencyStoreOptions) {
    this.client = options.client;
    this.keyPrefix = options.keyPrefix;
    this.leaseMs = options.leaseMs;
    this.doneRetentionMs = options.doneRetentionMs;
    this.owner = options.owner;
  }

  async acquire(deliveryId: string): Promise<AcquireResult> {
    const token = `${this.owner}:${randomUUID()}`;
    const reply = await this.run(ACQUIRE, deliveryId, [token, this.leaseMs]);
    if (Array.isArray(reply)) {
      const [state, remaining] = reply as unknown[];
      if (state === 'acquired') return { state, lease: { deliveryId, token } };
      if (state === 'done') return { state };
      if (state === 'held' && typeof remaining === 'number') {
        return { state, remainingMs: Math.max(remaining, 0) };
      }
    }
    throw this.unexpected('acquire', deliveryId, reply);
  }

  /** Extends the lease to a full `leaseMs`; false when it is no longer ours. */
  async renew(lease: Lease): Promise<boolean> {
    return (await this.run(RENEW, lease.deliveryId, [lease.token, this.leaseMs])) === 1;
  }

  /** Gives the lease up so another attempt can start at once; false when it was not ours. */
  async release(lease: Lease): Promise<boolean> {
    return (await this.run(RELEASE, lease.deliveryId, [lease.token])) === 1;
  }

  async markDone(lease: Lease): Promise<FinishResult<'marked'>> {
    const reply = await this.run(MARK_DONE, lease.deliveryId, [lease.token, this.doneRetentionMs]);
    if (reply === 'marked' || reply === 'already-done' || reply === 'lost') return reply;
    throw this.unexpected('markDone', lease.deliveryId, reply);
  }

  /** Applies `operations` and the done mark in one atomic step, or nothing at all. */
  async commit(lease: Lease, operations: readonly CommitOperation[]): Promise<FinishResult<'committed'>> {
    const effectKeys = [...new Set(operations.map((op) => op.key))];
    const encoded = operations.map((op) => [op.command, effectKeys.indexOf(op.key) + 3, ...op.args]);
    let reply: unknown;
    try {
      reply = await this.run(
        COMMIT,
        lease.deliveryId,
        [lease.token, this.doneRetentionMs, JSON.stringify(encoded)],
        effectKeys,
      );
    } catch (error) {
      if (error instanceof Error && error.message.startsWith('QSCOMMIT ')) {
        throw new IdempotencyError(
          'IDEMPOTENCY_COMMIT_FAILED',
          lease.deliveryId,
          `the commit was refused before any write: ${error.message.slice('QSCOMMIT '.length)}`,
          { cause: error },
        );
      }
      throw error;
    }
    if (reply === 'committed' || reply === 'already-done' || reply === 'lost') return reply;
    throw this.unexpected('commit', lease.deliveryId, reply);
  }

  async isDone(deliveryId: string): Promise<boolean> {
    return (await this.client.exists(deliveryKeys(this.keyPrefix, deliveryId).done)) === 1;
  }

  async ping(): Promise<void> {
    await this.client.ping();
  }

  async close(): Promise<void> {
    await this.client.quit();
  }

  private run(
    script: LuaScript,
    deliveryId: string,
    args: readonly (string | number)[],
    extraKeys: readonly string[] = [],
  ): Promise<unknown> {
    const keys = deliveryKeys(this.keyPrefix, deliveryId);
    return script.run(this.client, [keys.lease, keys.done, ...extraKeys], args);
  }

  private unexpected(step: string, deliveryId: string, reply: unknown): IdempotencyError {
    return new IdempotencyError(
      'IDEMPOTENCY_UNEXPECTED_REPLY',
      deliveryId,
      `the ${step} script answered ${JSON.stringify(reply)}`,
    );
  }
}
