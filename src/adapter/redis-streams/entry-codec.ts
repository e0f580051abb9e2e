/**
 * How a delivery is laid out in a stream entry, and in its dead-letter copy. Field names are part
 * of the wire format shared with every other reader of the stream (the operator's drain, tools):
 * change them only together with a migration.
 */
import type { OutgoingMessage } from '../types.ts';

export const ENTRY_FIELDS = {
  deliveryId: 'delivery-id',
  body: 'body',
  /** A JSON object of strings; absent when the message has no attributes. */
  attributes: 'attributes',
} as const;

/** Added to the original fields of an entry copied to `<stream>:dlq`. */
export const DEAD_LETTER_FIELDS = {
  reason: 'dead-reason',
  originalId: 'dead-original-id',
  deliveryCount: 'dead-delivery-count',
  group: 'dead-group',
  consumer: 'dead-consumer',
} as const;

export type DecodedEntry = { ok: true; message: OutgoingMessage } | { ok: false; problem: string };

export interface DeadLetterNote {
  reason: string;
  originalId: string;
  deliveryCount: number;
  group: string;
  consumer: string;
}

export function encodeEntry(message: OutgoingMessage): string[] {
  const fields = [ENTRY_FIELDS.deliveryId, message.deliveryId, ENTRY_FIELDS.body, message.body];
  if (message.attributes !== undefined)
    fields.push(ENTRY_FIELDS.attributes, JSON.stringify(message.attributes));
  return fields;
}

/**
 * The first value of field `name` (XADD allows repeated names; later ones are ignored). A scan per
 * field rather than a map of all of them: an entry has three fields, and this runs per message.
 */
function firstValue(fields: readonly string[], name: string): string | undefined {
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === name) return fields[i + 1];
  return undefined;
}

function decodeAttributes(text: string): Record<string, string> | string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return `field ${ENTRY_FIELDS.attributes} is not JSON`;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return `field ${ENTRY_FIELDS.attributes} is not a JSON object`;
  }
  const entries = Object.entries(parsed);
  const notString = entries.find(([, value]) => typeof value !== 'string');
  if (notString) return `attribute ${notString[0]} is not a string`;
  return Object.fromEntries(entries);
}

/** The message an entry carries, or why it carries none (such entries go to the DLQ). */
export function decodeEntry(fields: readonly string[]): DecodedEntry {
  const deliveryId = firstValue(fields, ENTRY_FIELDS.deliveryId);
  const body = firstValue(fields, ENTRY_FIELDS.body);
  if (deliveryId === undefined || deliveryId === '') {
    return { ok: false, problem: `field ${ENTRY_FIELDS.deliveryId} is missing or empty` };
  }
  if (body === undefined) return { ok: false, problem: `field ${ENTRY_FIELDS.body} is missing` };
  const attributesText = firstValue(fields, ENTRY_FIELDS.attributes);
  if (attributesText === undefined) return { ok: true, message: { deliveryId, body } };
  const attributes = decodeAttributes(attributesText);
  if (typeof attributes === 'string') return { ok: false, problem: attributes };
  return { ok: true, message: { deliveryId, body, attributes } };
}

/** The fields of a dead-letter copy: the original fields as they were, then why and from where. */
export function deadLetterFields(original: readonly string[], note: DeadLetterNote): string[] {
  return [
    ...original,
    DEAD_LETTER_FIELDS.reason,
    note.reason,
    DEAD_LETTER_FIELDS.originalId,
    note.originalId,
    DEAD_LETTER_FIELDS.deliveryCount,
    String(note.deliveryCount),
    DEAD_LETTER_FIELDS.group,
    note.group,
    DEAD_LETTER_FIELDS.consumer,
    note.consumer,
  ];
}
