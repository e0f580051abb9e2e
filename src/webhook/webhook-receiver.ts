import { PublishError, type Clock, type Producer } from '../adapter/index.ts';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { verify } from '@octokit/webhooks-methods';
import type { Logger } from 'pino';
import { readBody } from './body-reader.ts';
import { closeAfterDraining } from './linger.ts';
import { encodeEnvelope } from './envelope.ts';
import { payloadJson } from './payload.ts';
import { REJECTIONS, type Rejection, type RejectionReason } from './rejections.ts';
import type { WebhookMetrics } from './webhook-metrics.ts';

export interface WebhookReceiverOptions {
  /** The one path deliveries are accepted on. */
  path: string;
  secret: string;
  maxBodyBytes: number;
  producer: Pick<Producer, 'publish'>;
  metrics: WebhookMetrics;
  logger: Logger;
  clock: Clock;
}

/** GitHub's form: `sha256=` and 64 lowercase hex digits. Anything else cannot match. */
const SIGNATURE_FORMAT = /^sha256=[0-9a-f]{64}$/;
/** GitHub sends UUIDs; the id also becomes part of Redis keys, so only safe characters pass. */
const DELIVERY_ID_FORMAT = /^[A-Za-z0-9._:-]{1,128}$/;
const EVENT_FORMAT = /^[A-Za-z0-9._-]{1,100}$/;

/** A verified delivery: what gets published. */
interface Delivery {
  deliveryId: string;
  event: string;
  /** The payload's JSON text, checked to be an object. */
  payload: string;
}

type Checked =
  | { kind: 'delivery'; delivery: Delivery }
  | { kind: 'rejected'; reason: RejectionReason }
  /** The client went away mid-request: there is no one to answer. */
  | { kind: 'gone' };

function rejected(reason: RejectionReason): Checked {
  return { kind: 'rejected', reason };
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: object,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
  });
  res.end(text);
}

/**
 * Receives GitHub deliveries (DESIGN.md §2): the signature is checked before anything in the
 * request is believed, then the headers and the payload; the envelope is published, and 202 sent
 * only once a queue accepted it. Every refusal is counted and nothing is published for it.
 */
export class WebhookReceiver {
  private readonly options: WebhookReceiverOptions;

  constructor(options: WebhookReceiverOptions) {
    this.options = options;
  }

  /** A node:http request listener. */
  readonly handle = (req: IncomingMessage, res: ServerResponse): void => {
    this.receive(req, res).catch((error: unknown) => {
      this.options.logger.error({ err: error }, 'webhook request failed');
      if (!res.headersSent) sendJson(res, 500, { error: 'internal_error' }, { Connection: 'close' });
      else res.destroy();
    });
  };

  private async receive(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = this.options.clock.now();
    this.options.logger.trace({ method: req.method, url: req.url, headers: req.headers }, 'request received');
    const checked = await this.check(req);
    if (checked.kind === 'gone') {
      this.options.logger.debug('the client went away before sending the whole body');
    } else if (checked.kind === 'rejected') {
      this.reject(req, res, checked.reason);
    } else {
      await this.publish(req, res, checked.delivery, started);
    }
  }

  /** The delivery a request carries, or why it is refused: the signature first, then the rest. */
  private async check(req: IncomingMessage): Promise<Checked> {
    const { path, secret, maxBodyBytes } = this.options;
    if ((req.url ?? '/').split('?', 1)[0] !== path) return rejected('not_found');
    if (req.method !== 'POST') return rejected('method_not_allowed');
    const signature = header(req, 'x-hub-signature-256');
    if (signature === undefined) return rejected('signature_missing');
    if (!SIGNATURE_FORMAT.test(signature)) return rejected('signature_invalid');
    const read = await readBody(req, maxBodyBytes);
    if (read.kind === 'aborted') return { kind: 'gone' };
    if (read.kind === 'too-large') return rejected('body_too_large');
    const body = read.body.toString('utf8');
    // The library refuses to sign an empty body; an empty body cannot carry a verified payload.
    if (body.length === 0 || !(await verify(secret, body, signature))) return rejected('signature_invalid');
    const deliveryId = header(req, 'x-github-delivery');
    if (deliveryId === undefined || !DELIVERY_ID_FORMAT.test(deliveryId))
      return rejected('delivery_header_invalid');
    const event = header(req, 'x-github-event');
    if (event === undefined || !EVENT_FORMAT.test(event)) return rejected('event_header_invalid');
    const payload = payloadJson(header(req, 'content-type'), body);
    if (payload === undefined) return rejected('payload_malformed');
    return { kind: 'delivery', delivery: { deliveryId, event, payload } };
  }

  private async publish(
    req: IncomingMessage,
    res: ServerResponse,
    delivery: Delivery,
    started: number,
  ): Promise<void> {
    const { producer, metrics, clock, logger } = this.options;
    const { deliveryId, event, payload } = delivery;
    metrics.received();
    const envelope = encodeEnvelope(
      { deliveryId, event, receivedAt: new Date(started).toISOString() },
      payload,
    );
    try {
      const result = await producer.publish({ deliveryId, body: envelope, attributes: { event } });
      metrics.accepted(result, (clock.now() - started) / 1_000);
      logger.debug(
        { deliveryId, event, backend: result.backend, fallback: result.usedFallback },
        'delivery accepted',
      );
      sendJson(res, 202, { deliveryId, queue: result.backend });
    } catch (error) {
      if (!(error instanceof PublishError)) throw error;
      metrics.notAccepted(error);
      logger.warn({ err: error, code: error.code, deliveryId, event }, 'no queue accepted the delivery');
      this.reject(req, res, 'queue_unavailable');
    }
  }

  /**
   * A refusal. The connection is closed after it. When the body was not read (a refusal before
   * or while reading it), the rest is drained for a bounded time first, so the client reads the
   * answer instead of a reset (see closeAfterDraining).
   */
  private reject(req: IncomingMessage, res: ServerResponse, reason: RejectionReason): void {
    const rejection: Rejection = REJECTIONS[reason];
    const { status, message } = rejection;
    const headers: Record<string, string> = rejection.allow === undefined ? {} : { Allow: rejection.allow };
    this.options.metrics.rejected(reason);
    this.options.logger.debug({ reason, status }, 'request rejected');
    if (req.complete) {
      sendJson(res, status, { error: reason, message }, { ...headers, Connection: 'close' });
      return;
    }
    sendJson(res, status, { error: reason, message }, headers);
    closeAfterDraining(req);
  }
}
