/**
 * Checks on the shape of Redis replies. ioredis hands replies over as `unknown`; these turn them
 * into typed values or throw a coded error that names the stream and what was expected.
 */
import { RedisStreamsError } from './errors.ts';

export function unexpected(stream: string, what: string, reply: unknown): RedisStreamsError {
  // JSON.stringify gives undefined for undefined, whatever its declared type says.
  const shown = ((JSON.stringify(reply) as string | undefined) ?? String(reply)).slice(0, 200);
  return new RedisStreamsError('REDIS_STREAMS_UNEXPECTED_REPLY', `expected ${what}, got ${shown}`, {
    stream,
  });
}

export function asArray(reply: unknown, stream: string, what: string): unknown[] {
  if (!Array.isArray(reply)) throw unexpected(stream, what, reply);
  return reply as unknown[];
}

export function asString(reply: unknown, stream: string, what: string): string {
  if (typeof reply === 'string') return reply;
  if (Buffer.isBuffer(reply)) return reply.toString('utf8');
  throw unexpected(stream, what, reply);
}

/** Integers come as numbers, but some replies (XPENDING's per-consumer counts) carry them as text. */
export function asNumber(reply: unknown, stream: string, what: string): number {
  const value = typeof reply === 'string' ? Number(reply) : reply;
  if (typeof value !== 'number' || !Number.isFinite(value)) throw unexpected(stream, what, reply);
  return value;
}

export function asNumberOrNull(reply: unknown, stream: string, what: string): number | null {
  return reply === null ? null : asNumber(reply, stream, what);
}

/**
 * A map reply by field name. Under RESP2, and under RESP3 with ioredis's default reply mapping,
 * maps arrive as flat `[name, value, …]` arrays; with the `resp3` mapping, as objects. Reading by
 * name keeps working when a server release adds or reorders fields.
 */
export function byName(reply: unknown, stream: string, what: string): Map<string, unknown> {
  if (Array.isArray(reply)) {
    const fields = new Map<string, unknown>();
    for (let i = 0; i + 1 < reply.length; i += 2) fields.set(asString(reply[i], stream, what), reply[i + 1]);
    return fields;
  }
  if (typeof reply === 'object' && reply !== null) return new Map(Object.entries(reply));
  throw unexpected(stream, what, reply);
}

/** A required field of a map reply. */
export function field(fields: Map<string, unknown>, name: string, stream: string, what: string): unknown {
  if (!fields.has(name)) throw unexpected(stream, `${what} with a ${name} field`, Object.fromEntries(fields));
  return fields.get(name);
}
