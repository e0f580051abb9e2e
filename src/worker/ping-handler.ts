import type { WebhookHandler } from './webhook-handler.ts';

/**
 * `ping`: GitHub's hello when a webhook is created, and the operator's synthetic probes. It succeeds
 * with no side effect, so the pool marks the delivery done; probes read that mark as proof that a
 * worker handled the delivery end to end.
 */
export const pingHandler: WebhookHandler = () => Promise.resolve({ kind: 'ack' });
