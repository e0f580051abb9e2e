import type { BackendKind } from '../types.ts';

/**
 * Codes of what goes wrong while consuming. None of them loses a message: each says what the pool
 * did instead (the message comes back later, or another worker finishes it).
 * - `CONSUMER_RECEIVE_FAILED`: a fetch failed; the loop backs off and fetches again.
 * - `CONSUMER_ACK_FAILED`: an acknowledgement failed after the work was done and marked; the message
 *   comes back and is acknowledged without running (its delivery is done).
 * - `CONSUMER_SETTLE_FAILED`: a retry or dead-letter call failed; the message comes back once its
 *   visibility / claim idle time passes.
 * - `CONSUMER_KEEPALIVE_FAILED`: a heartbeat for in-flight messages failed; retried next interval.
 * - `CONSUMER_IDEMPOTENCY_UNAVAILABLE`: the idempotency store did not answer; fetching pauses until
 *   it answers again.
 * - `CONSUMER_LEASE_LOST`: another worker took a running handler's lease (this one stalled past the
 *   lease); the handler is aborted and its commit refused.
 * - `CONSUMER_DONE_MARK_LOST`: a successful handler's done mark could not land because another worker
 *   holds the lease; effects outside the commit API may happen twice for this delivery.
 * - `CONSUMER_HANDLER_TIMEOUT`: a handler ran past its timeout; it is aborted and retried.
 * - `CONSUMER_HANDLER_FAILED`: a handler threw instead of returning an outcome; retried.
 */
export type ConsumerErrorCode =
  | 'CONSUMER_RECEIVE_FAILED'
  | 'CONSUMER_ACK_FAILED'
  | 'CONSUMER_SETTLE_FAILED'
  | 'CONSUMER_KEEPALIVE_FAILED'
  | 'CONSUMER_IDEMPOTENCY_UNAVAILABLE'
  | 'CONSUMER_LEASE_LOST'
  | 'CONSUMER_DONE_MARK_LOST'
  | 'CONSUMER_HANDLER_TIMEOUT'
  | 'CONSUMER_HANDLER_FAILED';

/** Where it happened: which back end, which message, which delivery. */
export interface ConsumerErrorContext {
  backend?: BackendKind;
  messageId?: string;
  deliveryId?: string;
}

export class ConsumerError extends Error {
  readonly code: ConsumerErrorCode;
  readonly context: ConsumerErrorContext;

  constructor(
    code: ConsumerErrorCode,
    message: string,
    context: ConsumerErrorContext,
    options?: ErrorOptions,
  ) {
    const where = Object.entries(context)
      .map(([key, value]) => `${key} ${value}`)
      .join(', ');
    super(where.length > 0 ? `${message} (${where})` : message, options);
    this.name = 'ConsumerError';
    this.code = code;
    this.context = context;
  }
}
