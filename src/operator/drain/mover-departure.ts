import type { Redis } from 'ioredis';

/** The mover's consumer in its group. */
export interface MoverSeat {
  stream: string;
  group: string;
  consumer: string;
}

/** What became of the mover's consumer once its migration came to rest. */
export type Departure =
  /** Deleted from the group (or never in it). `dropped` > 0 only if it took entries during the check. */
  | { left: true; dropped: number }
  /** Kept: deleting it would drop its pending entries from the group for good (DESIGN.md §1). */
  | { left: false; pending: number };

/** The mover's consumer could not be checked or deleted; it stays in the group, and so do its entries. */
export class MoverDepartureError extends Error {
  readonly code = 'MOVER_DEPARTURE_FAILED';
  readonly seat: MoverSeat;

  constructor(seat: MoverSeat, detail: string, options?: ErrorOptions) {
    super(
      `MOVER_DEPARTURE_FAILED: consumer ${seat.consumer} of group ${seat.group} on stream ${seat.stream}: ${detail}`,
      options,
    );
    this.name = 'MoverDepartureError';
    this.seat = seat;
  }
}

/**
 * The pending count of `consumer` in an `XPENDING stream group` summary reply:
 * `[total, smallest id, greatest id, [[consumer, count], …] | null]`.
 */
export function pendingOfConsumer(summary: unknown, consumer: string): number {
  const malformed = (): Error => new Error(`not an XPENDING summary: ${JSON.stringify(summary)}`);
  const perConsumer: unknown = Array.isArray(summary) ? summary[3] : undefined;
  if (perConsumer === null) return 0;
  if (!Array.isArray(perConsumer)) throw malformed();
  for (const row of perConsumer) {
    if (!Array.isArray(row)) throw malformed();
    const [name, count] = row as unknown[];
    if (name !== consumer) continue;
    // A count that cannot be read is unknown, never 0: the consumer must not be deleted on it.
    const pending = Number(count);
    if (!Number.isInteger(pending) || pending < 0) throw malformed();
    return pending;
  }
  return 0;
}

/**
 * Deletes the mover's consumer from its group unless it has entries pending. No read of the mover
 * may run meanwhile (its back end is closed first): only the mover reads or claims under its name,
 * so nothing can become pending between the check and the deletion except through another process
 * using that name, which DELCONSUMER's count reveals.
 */
export async function leaveGroup(client: Redis, seat: MoverSeat): Promise<Departure> {
  const { stream, group, consumer } = seat;
  try {
    const pending = pendingOfConsumer(await client.call('XPENDING', stream, group), consumer);
    if (pending > 0) return { left: false, pending };
    const dropped = Number(await client.call('XGROUP', 'DELCONSUMER', stream, group, consumer));
    return { left: true, dropped };
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    throw new MoverDepartureError(seat, detail, { cause: error });
  }
}
