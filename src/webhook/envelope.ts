import { z } from 'zod';

/** What the webhook publishes for each delivery and the worker hands to its handlers. */
export interface Envelope {
  /** `X-GitHub-Delivery`: the idempotency key. */
  deliveryId: string;
  /** `X-GitHub-Event`: which handler takes it. */
  event: string;
  /** When the webhook received the request, ISO 8601. */
  receivedAt: string;
  /** The webhook payload as GitHub sent it (a JSON object). */
  payload: Record<string, unknown>;
}

/**
 * Characters that may appear raw in a JSON string but not in an SQS message body: U+FFFE and U+FFFF,
 * which SQS refuses, and characters outside the Basic Multilingual Plane, which SQS accepts but
 * the SQS emulator of the test environment (fauxqs 2.4, checking UTF-16 code units) refuses.
 */
const NOT_SAFE_FOR_SQS = /[\uFFFE\uFFFF]|[\u{10000}-\u{10FFFF}]/gu;

function jsonEscape(character: string): string {
  let escaped = '';
  for (let i = 0; i < character.length; i += 1) {
    escaped += `\\u${character.charCodeAt(i).toString(16).padStart(4, '0')}`;
  }
  return escaped;
}

/**
 * The envelope as JSON text. The payload's text is spliced in as received rather than re-serialised
 * (the caller has checked that it is a JSON object): the only change is that characters SQS may
 * refuse are written as JSON escapes, which leaves the payload's value the same.
 */
export function encodeEnvelope(
  head: Pick<Envelope, 'deliveryId' | 'event' | 'receivedAt'>,
  payloadJson: string,
): string {
  const { deliveryId, event, receivedAt } = head;
  const payload = payloadJson.replace(NOT_SAFE_FOR_SQS, jsonEscape);
  return `{"deliveryId":${JSON.stringify(deliveryId)},"event":${JSON.stringify(event)},"receivedAt":${JSON.stringify(receivedAt)},"payload":${payload}}`;
}

const envelopeSchema = z.object({
  deliveryId: z.string().min(1),
  event: z.string().min(1),
  receivedAt: z.iso.datetime(),
  payload: z.record(z.string(), z.unknown()),
});

export type DecodedEnvelope = { ok: true; envelope: Envelope } | { ok: false; problem: string };

/** The envelope a message body carries, or why it carries none. */
export function decodeEnvelope(body: string): DecodedEnvelope {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch (error) {
    return { ok: false, problem: `the body is not JSON (${(error as Error).message})` };
  }
  const result = envelopeSchema.safeParse(parsed);
  if (result.success) return { ok: true, envelope: result.data };
  const issue = result.error.issues[0];
  return {
    ok: false,
    problem: `the body is not a webhook envelope: ${issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : 'invalid'}`,
  };
}
