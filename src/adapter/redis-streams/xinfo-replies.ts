/**
 * Parsers for XINFO STREAM / GROUPS / CONSUMERS, read by field name (see reply-shape.ts). Only the
 * fields Redis 7.0 has are required; `inactive` (7.2+) is read when present.
 */
import { asArray, asNumber, asNumberOrNull, asString, byName, field } from './reply-shape.ts';

export interface StreamInfo {
  length: number;
  lastGeneratedId: string;
}

export interface GroupInfo {
  name: string;
  pending: number;
  lastDeliveredId: string;
  /** NULL when the server cannot tell (after deletions past the group's position, or SETID without ENTRIESREAD). */
  lag: number | null;
}

export interface ConsumerInfo {
  name: string;
  pending: number;
  /** Since an entry was last delivered to or claimed by the consumer (7.0: empty reads do not reset it). */
  idleMs: number;
  /** Since the consumer's last read attempt, empty ones included; absent before 7.2, -1 if it never read. */
  inactiveMs?: number;
}

export function parseStreamInfo(reply: unknown, stream: string): StreamInfo {
  const what = 'XINFO STREAM';
  const fields = byName(reply, stream, what);
  return {
    length: asNumber(field(fields, 'length', stream, what), stream, 'a stream length'),
    lastGeneratedId: asString(field(fields, 'last-generated-id', stream, what), stream, 'an entry id'),
  };
}

export function parseGroupsInfo(reply: unknown, stream: string): GroupInfo[] {
  const what = 'XINFO GROUPS';
  return asArray(reply, stream, what).map((group) => {
    const fields = byName(group, stream, what);
    return {
      name: asString(field(fields, 'name', stream, what), stream, 'a group name'),
      pending: asNumber(field(fields, 'pending', stream, what), stream, 'a pending count'),
      lastDeliveredId: asString(field(fields, 'last-delivered-id', stream, what), stream, 'an entry id'),
      lag: asNumberOrNull(field(fields, 'lag', stream, what), stream, 'a lag'),
    };
  });
}

export function parseConsumersInfo(reply: unknown, stream: string): ConsumerInfo[] {
  const what = 'XINFO CONSUMERS';
  return asArray(reply, stream, what).map((consumer) => {
    const fields = byName(consumer, stream, what);
    const inactive = fields.get('inactive');
    return {
      name: asString(field(fields, 'name', stream, what), stream, 'a consumer name'),
      pending: asNumber(field(fields, 'pending', stream, what), stream, 'a pending count'),
      idleMs: asNumber(field(fields, 'idle', stream, what), stream, 'an idle time'),
      ...(inactive === undefined ? {} : { inactiveMs: asNumber(inactive, stream, 'an inactive time') }),
    };
  });
}
