import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { systemClock, type Clock } from '../clock.ts';
import { TurnPipeline } from '../redis/turn-pipeline.ts';
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
  /**
   * A call not answered within this time fails (IDEMPOTENCY_TIMEOUT) rather than holding a handler
   * slot while the connection is re-established; its command may still land later. Default: none.
   */
  commandTimeoutMs?: number;
  /**
   * Times `commandTimeoutMs` (a CoalescingClock keeps that cheap; required with a timeout) and dates
   * done marks (`markedDoneAt`). Default: the system clock.
   */
  clock?: Clock;
}

/**
 * Leases and done marks per delivery id (DESIGN.md §1 "Idempotency"). Every step that depends on
 * who holds a lease compares the token inside one script, so no check and write can interleave with
 * another worker's.
 */
export class IdempotencyStore {
  readonly leaseMs: number;
  private readonly client: Redis;
  /** Script calls made in one turn (the leases or done marks of a batch) share one round trip. */
  private readonly scripts: TurnPipeline;
  private readonly keyPrefix: string;
  private readonly doneRetentionMs: number;
  /** Tokens are `<owner>:<this store's random id>:<sequence>`: unique without a UUID per lease. */
  private readonly tokenPrefix: string;
  private leases = 0;
  private readonly deadline: { ms: number; clock: Clock } | undefined;
  private readonly clock: Clock;

  constructor(options: IdempotencyStoreOptions) {
    this.client = options.client;
    this.keyPrefix = options.keyPrefix;
    this.leaseMs = options.leaseMs;
    this.doneRetentionMs = options.doneRetentionMs;
    this.tokenPrefix = `${options.owner}:${randomUUID()}:`;
    this.clock = options.clock ?? systemClock;
    if (options.commandTimeoutMs !== undefined) {
      if (options.clock === undefined) throw new RangeError('a command timeout needs a clock');
      this.deadline = { ms: options.commandTimeoutMs, clock: options.clock };
    }
    this.scripts = new TurnPipeline(options.client);
  }

  async acquire(deliveryId: string): Promise<AcquireResult> {
    const token = `${this.tokenPrefix}${++this.leases}`;
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
    const done = deliveryKeys(this.keyPrefix, deliveryId).done;
    return (await this.bounded(this.client.exists(done), 'the done-mark check', deliveryId)) === 1;
  }

  /**
   * When the delivery was marked done, on this store's clock; undefined when it is not. A done mark
   * is written with the retention as its time to live, so its age is retention − PTTL: one PTTL,
   * exact to the millisecond, dated at the midpoint of the round trip. Calls made in one turn share
   * one round trip. A mark written under another retention is dated off by the difference.
   */
  async markedDoneAt(deliveryId: string): Promise<number | undefined> {
    const done = deliveryKeys(this.keyPrefix, deliveryId).done;
    const askedAt = this.clock.now();
    const ttl = await this.bounded(this.scripts.call('PTTL', done), "the done mark's PTTL", deliveryId);
    const answeredAt = this.clock.now();
    if (ttl === -2) return undefined;
    if (typeof ttl !== 'number' || ttl < 0) {
      throw new IdempotencyError(
        'IDEMPOTENCY_UNEXPECTED_REPLY',
        deliveryId,
        `PTTL of the done mark answered ${JSON.stringify(ttl)}: a mark without expiry was not written by a worker, so when it was is unknown`,
      );
    }
    return Math.round((askedAt + answeredAt) / 2) - (this.doneRetentionMs - ttl);
  }

  async ping(): Promise<void> {
    await this.bounded(this.client.ping(), 'PING', '(none)');
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
    return this.bounded(
      script.run(this.scripts, [keys.lease, keys.done, ...extraKeys], args),
      script,
      deliveryId,
    );
  }

  /**
   * `work`, failed with IDEMPOTENCY_TIMEOUT once it has taken longer than the command timeout. `what`
   * is a script or a description; its text is only built for the error (this runs twice per message).
   */
  private bounded<T>(work: Promise<T>, what: LuaScript | string, deliveryId: string): Promise<T> {
    const deadline = this.deadline;
    if (deadline === undefined) return work;
    return new Promise((resolve, reject) => {
      const timer = deadline.clock.schedule(deadline.ms, () => {
        reject(
          new IdempotencyError(
            'IDEMPOTENCY_TIMEOUT',
            deliveryId,
            `the store did not answer ${typeof what === 'string' ? what : `the ${what.name} script`} within ${deadline.ms} ms`,
          ),
        );
      });
      work.then(
        (value) => {
          timer.cancel();
          resolve(value);
        },
        (error: unknown) => {
          timer.cancel();
          reject(error instanceof Error ? error : new Error(String(error)));
        },
      );
    });
  }

  private unexpected(step: string, deliveryId: string, reply: unknown): IdempotencyError {
    return new IdempotencyError(
      'IDEMPOTENCY_UNEXPECTED_REPLY',
      deliveryId,
      `the ${step} script answered ${JSON.stringify(reply)}`,
    );
  }
}
