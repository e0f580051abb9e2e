import type { CommitTransaction } from '../idempotency/commit-transaction.ts';
import type { Outcome, ReceivedMessage } from '../types.ts';

/** What a handler gets beside its message. */
export interface HandlerContext {
  /** `X-GitHub-Delivery`: the idempotency key for every effect outside `commit`. */
  readonly deliveryId: string;
  /** Aborts when the attempt is over: handler timeout, lease lost, or shutdown past its grace. */
  readonly signal: AbortSignal;
  /**
   * Writes the Redis effects built in `build` together with the delivery's done mark, atomically:
   * all of it lands exactly once, or nothing does (the promise then rejects). Once it resolves the
   * delivery is acknowledged whatever the handler returns. At most one commit per attempt.
   */
  commit(build: (tx: CommitTransaction) => void): Promise<void>;
}

/**
 * Decides what happens to a message. Nothing is acknowledged implicitly: a throw is a retry with the
 * pool's default delay.
 */
export type Handler = (message: ReceivedMessage, ctx: HandlerContext) => Promise<Outcome>;
