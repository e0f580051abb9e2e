import type { WebhookHandler } from './webhook-handler.ts';

/**
 * Records each handled delivery in a hash, `HINCRBY <ledgerKey> <deliveryId> 1`, through the commit
 * API: the increment lands in the same atomic step as the done mark, so a count above 1 means a
 * delivery was handled twice. The default handler of events no other handler takes.
 */
export function ledgerHandler(ledgerKey: string): WebhookHandler {
  return async (_envelope, ctx) => {
    await ctx.commit((tx) => {
      tx.hincrby(ledgerKey, ctx.deliveryId, 1);
    });
    return { kind: 'ack' };
  };
}
