/**
 * Parsers for the replies of the commands that move entries: XREADGROUP, XAUTOCLAIM, XPENDING.
 */
import { asArray, asNumber, asString, byName, unexpected } from './reply-shape.ts';

/** An entry as the server returned it. `fields` is null for an entry deleted while still pending. */
export interface RawEntry {
  id: string;
  fields: string[] | null;
}

export interface AutoClaimReply {
  /** Where the next XAUTOCLAIM continues; `0-0` once the whole pending list was scanned. */
  cursor: string;
  entries: RawEntry[];
  /** Pending ids whose entries no longer exist (trimmed or deleted); the server dropped them. */
  deletedIds: string[];
}

export interface PendingSummary {
  count: number;
  /** Smallest pending id; absent when nothing is pending. */
  oldestId?: string;
}

export interface PendingEntry {
  id: string;
  consumer: string;
  idleMs: number;
  deliveryCount: number;
}

function parseEntry(reply: unknown, stream: string): RawEntry {
  const [id, fields] = asArray(reply, stream, 'an entry [id, fields]');
  return {
    id: asString(id, stream, 'an entry id'),
    fields:
      fields === null
        ? null
        : asArray(fields, stream, 'entry fields').map((value) => asString(value, stream, 'an entry field')),
  };
}

export function parseEntries(reply: unknown, stream: string): RawEntry[] {
  return asArray(reply, stream, 'a list of entries').map((entry) => parseEntry(entry, stream));
}

/**
 * XREADGROUP on one stream. Null when BLOCK ran out. The per-stream part is a list of
 * `[name, entries]` pairs under RESP2 and a map under RESP3 (flat or object, by reply mapping).
 */
export function parseReadGroupReply(reply: unknown, stream: string): RawEntry[] {
  if (reply === null) return [];
  const streams =
    Array.isArray(reply) && Array.isArray(reply[0])
      ? new Map(reply as [unknown, unknown][])
      : byName(reply, stream, 'XREADGROUP streams');
  const entries = [...streams].find(([name]) => name === stream)?.[1];
  if (entries === undefined) throw unexpected(stream, `entries of ${stream}`, reply);
  return parseEntries(entries, stream);
}

export function parseAutoClaimReply(reply: unknown, stream: string): AutoClaimReply {
  const [cursor, entries, deleted = []] = asArray(reply, stream, 'XAUTOCLAIM [cursor, entries, deleted]');
  return {
    cursor: asString(cursor, stream, 'an XAUTOCLAIM cursor'),
    entries: parseEntries(entries, stream),
    deletedIds: asArray(deleted, stream, 'deleted ids').map((id) => asString(id, stream, 'a deleted id')),
  };
}

/** `XPENDING stream group`: count, smallest id, largest id, per-consumer counts. */
export function parsePendingSummary(reply: unknown, stream: string): PendingSummary {
  const [count, oldestId] = asArray(reply, stream, 'an XPENDING summary');
  const total = asNumber(count, stream, 'a pending count');
  if (total === 0 || oldestId === null) return { count: total };
  return { count: total, oldestId: asString(oldestId, stream, 'the smallest pending id') };
}

/** `XPENDING stream group start end count [consumer]`. */
export function parsePendingEntries(reply: unknown, stream: string): PendingEntry[] {
  return asArray(reply, stream, 'XPENDING entries').map((row) => {
    const [id, consumer, idle, deliveries] = asArray(row, stream, 'an XPENDING entry');
    return {
      id: asString(id, stream, 'a pending id'),
      consumer: asString(consumer, stream, 'a consumer name'),
      idleMs: asNumber(idle, stream, 'an idle time'),
      deliveryCount: asNumber(deliveries, stream, 'a delivery count'),
    };
  });
}

/** `XCLAIM … JUSTID`: the ids that were pending and are now this consumer's. */
export function parseClaimedIds(reply: unknown, stream: string): string[] {
  return asArray(reply, stream, 'XCLAIM ids').map((id) => asString(id, stream, 'an entry id'));
}
