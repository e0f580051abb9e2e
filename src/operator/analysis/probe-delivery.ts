import type { OutgoingMessage } from '../../adapter/index.ts';
import { encodeEnvelope } from '../../webhook/envelope.ts';

/** The event of every probe: the worker's built-in ping handler acks it with no side effect. */
export const PROBE_EVENT = 'ping';

/** At most this many probes per round: each is an entry in status until the round is judged. */
export const MAX_PROBES_PER_ROUND = 20;

/** How a probe reaches the stream: published by the operator, or sent to a producer over HTTP. */
export type ProbeRoute = 'stream' | 'http';

export interface Probe {
  deliveryId: string;
  route: ProbeRoute;
  /** The webhook payload, as JSON text: what GitHub would send. */
  payload: string;
}

/** The probes of one analysis round: the round's share of `interval`, then one over HTTP if asked. */
export function probesPerRound(analysisIntervalMs: number, probeIntervalMs: number): number {
  return Math.min(MAX_PROBES_PER_ROUND, Math.max(1, Math.floor(analysisIntervalMs / probeIntervalMs)));
}

/**
 * `queueshift-probe-<namespace>.<name>-<round>-<n>-<attempt>`. The attempt part is new on every
 * measurement: a round measured again (an operator restarted before its status write) never finds
 * the done marks of the first attempt's probes and takes them for its own.
 */
export function probeDeliveryId(migrationKey: string, round: number, index: number, attempt: string): string {
  return `queueshift-probe-${migrationKey.replace('/', '.')}-${round}-${index}-${attempt}`;
}

export function probeOf(migrationKey: string, deliveryId: string, route: ProbeRoute): Probe {
  return {
    deliveryId,
    route,
    payload: JSON.stringify({ zen: 'queueshift probe', migration: migrationKey }),
  };
}

/** The probe as the webhook would have published it: the same envelope and attributes. */
export function probeMessage(probe: Probe, sentAt: number): OutgoingMessage {
  const head = {
    deliveryId: probe.deliveryId,
    event: PROBE_EVENT,
    receivedAt: new Date(sentAt).toISOString(),
  };
  return {
    deliveryId: probe.deliveryId,
    body: encodeEnvelope(head, probe.payload),
    attributes: { event: PROBE_EVENT },
  };
}

/** The headers GitHub sends with a delivery; `signature` is `sha256=<hex>` of the payload. */
export function probeHeaders(probe: Probe, signature: string): Record<string, string> {
  return {
    'Content-Type': 'application/json',
    'User-Agent': 'queueshift-operator-probe',
    'X-GitHub-Event': PROBE_EVENT,
    'X-GitHub-Delivery': probe.deliveryId,
    'X-Hub-Signature-256': signature,
  };
}
