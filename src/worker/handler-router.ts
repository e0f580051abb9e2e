import type { Handler, Outcome } from '../adapter/index.ts';
import { decodeEnvelope } from '../webhook/envelope.ts';
import type { HandlerModule } from './handler-module.ts';
import { ledgerHandler } from './ledger-handler.ts';
import { pingHandler } from './ping-handler.ts';
import type { WebhookHandler } from './webhook-handler.ts';

export interface HandlerRoutes {
  byEvent: ReadonlyMap<string, WebhookHandler>;
  /** Every event without a handler of its own. */
  otherwise: WebhookHandler;
}

/**
 * Which handler takes which event: `ping` always the built-in ping handler; the events a handler
 * module lists (all others when it lists none) its handler; everything else the ledger.
 */
export function handlerRoutes(ledgerKey: string, module?: HandlerModule): HandlerRoutes {
  const byEvent = new Map<string, WebhookHandler>([['ping', pingHandler]]);
  const ledger = ledgerHandler(ledgerKey);
  if (module === undefined) return { byEvent, otherwise: ledger };
  if (module.events === undefined) return { byEvent, otherwise: module.handler };
  for (const event of module.events) byEvent.set(event, module.handler);
  return { byEvent, otherwise: ledger };
}

function dead(reason: string): Promise<Outcome> {
  return Promise.resolve({ kind: 'dead', reason });
}

/**
 * The consumer pool's handler: decodes the envelope and hands it to the handler of its event. A
 * message that is not a webhook envelope can never succeed, so it is dead-lettered at once with
 * the reason rather than retried.
 */
export function routeByEvent(routes: HandlerRoutes): Handler {
  return (message, ctx) => {
    const decoded = decodeEnvelope(message.body);
    if (!decoded.ok) return dead(decoded.problem);
    const { envelope } = decoded;
    if (envelope.deliveryId !== message.deliveryId) {
      return dead(
        `the envelope's delivery id ${envelope.deliveryId} differs from the message's ${message.deliveryId}, its idempotency key`,
      );
    }
    const handler = routes.byEvent.get(envelope.event) ?? routes.otherwise;
    return handler(envelope, ctx);
  };
}
