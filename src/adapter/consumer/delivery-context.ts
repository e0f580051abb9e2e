import { CommitTransaction } from '../idempotency/commit-transaction.ts';
import { IdempotencyError } from '../idempotency/idempotency-error.ts';
import type { IdempotencyStore, Lease } from '../idempotency/idempotency-store.ts';
import type { HandlerContext } from './handler.ts';

/**
 * Where a handler's commit ended: `none` (never called), `committed`, refused because the delivery is
 * `already-done` or its lease was `lost` to another worker, or `failed` (an error: it may or may not
 * have landed, so the attempt must not be acknowledged on the handler's word alone).
 */
export type CommitState = 'none' | 'committed' | 'already-done' | 'lost' | 'failed';

/** One attempt's handler context: the lease it runs under and the state of its commit. */
export class DeliveryContext implements HandlerContext {
  readonly deliveryId: string;
  readonly signal: AbortSignal;
  private readonly lease: Lease;
  private readonly store: IdempotencyStore;
  private state: CommitState = 'none';
  private pending: Promise<unknown> | undefined;

  constructor(lease: Lease, store: IdempotencyStore, signal: AbortSignal) {
    this.deliveryId = lease.deliveryId;
    this.lease = lease;
    this.store = store;
    this.signal = signal;
  }

  async commit(build: (tx: CommitTransaction) => void): Promise<void> {
    if (this.pending !== undefined) {
      throw new IdempotencyError('IDEMPOTENCY_INVALID_COMMIT', this.deliveryId, 'commit was already called');
    }
    if (this.signal.aborted) {
      throw new IdempotencyError(
        'IDEMPOTENCY_COMMIT_REFUSED',
        this.deliveryId,
        `the attempt is over (${String(this.signal.reason)}); nothing was written`,
      );
    }
    const tx = new CommitTransaction(this.deliveryId);
    build(tx);
    const landing = this.store.commit(this.lease, tx.operations).then(
      (result) => {
        this.state = result;
        return result;
      },
      (error: unknown) => {
        this.state = 'failed';
        throw error;
      },
    );
    this.pending = landing;
    const result = await landing;
    if (result !== 'committed') {
      throw new IdempotencyError(
        'IDEMPOTENCY_COMMIT_REFUSED',
        this.deliveryId,
        result === 'already-done'
          ? 'the delivery is already done; nothing was written'
          : 'another worker holds the lease now; nothing was written',
      );
    }
  }

  /** The commit's final state, once a commit still in flight has answered. */
  async commitState(): Promise<CommitState> {
    await this.pending?.catch(() => undefined);
    return this.state;
  }
}
