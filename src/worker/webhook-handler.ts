import type { HandlerContext, Outcome } from '../adapter/index.ts';
import type { Envelope } from '../webhook/envelope.ts';

/**
 * A handler of webhook deliveries, as a handler module (HANDLER_MODULE) exports it. `ctx` carries
 * the delivery id (the idempotency key for any effect outside Redis), `commit` (Redis effects written
 * atomically with the delivery's done mark: exactly once) and `signal` (aborts when the attempt is
 * over: timeout, lost lease, shutdown). Nothing is acknowledged implicitly: a throw is a retry.
 */
export type WebhookHandler = (envelope: Envelope, ctx: HandlerContext) => Promise<Outcome>;
