/**
 * Stream entry ids (`<ms>-<seq>`): ordering, the id right after another, and the time an entry
 * was added. Both parts are 64-bit unsigned on the server, hence bigint.
 */

const MAX_PART = (1n << 64n) - 1n;
const ID_PATTERN = /^(\d+)-(\d+)$/;

interface ParsedId {
  ms: bigint;
  seq: bigint;
}

function parse(id: string): ParsedId {
  const match = ID_PATTERN.exec(id);
  if (!match) throw new Error(`not a stream entry id: ${JSON.stringify(id)}`);
  const [, ms = '', seq = ''] = match;
  return { ms: BigInt(ms), seq: BigInt(seq) };
}

/** Negative when `a` comes before `b`, 0 when equal, positive after. */
export function compareIds(a: string, b: string): number {
  const x = parse(a);
  const y = parse(b);
  if (x.ms !== y.ms) return x.ms < y.ms ? -1 : 1;
  if (x.seq !== y.seq) return x.seq < y.seq ? -1 : 1;
  return 0;
}

export function minId(ids: readonly string[]): string | undefined {
  return ids.reduce<string | undefined>(
    (min, id) => (min === undefined || compareIds(id, min) < 0 ? id : min),
    undefined,
  );
}

/**
 * The smallest id greater than `id`: where "not yet delivered" starts after a group's
 * last-delivered-id, and an inclusive bound for XRANGE and XTRIM MINID.
 */
export function successorId(id: string): string {
  const { ms, seq } = parse(id);
  if (seq < MAX_PART) return `${ms}-${seq + 1n}`;
  if (ms < MAX_PART) return `${ms + 1n}-0`;
  throw new Error(`${id} is the largest possible stream entry id`);
}

/** When the entry was added, in ms since the epoch (the server's clock at XADD). */
export function idTimestampMs(id: string): number {
  // Once per received message: no bigint needed for a number of ms.
  if (!ID_PATTERN.test(id)) throw new Error(`not a stream entry id: ${JSON.stringify(id)}`);
  return Number(id.slice(0, id.indexOf('-')));
}
