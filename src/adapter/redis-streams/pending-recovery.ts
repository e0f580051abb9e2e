import type { Redis } from 'ioredis';
import type { Clock } from '../clock.ts';
import type { RedisStreamsErrorContext } from './errors.ts';
import type { Logger } from './options.ts';
import { sendCommand } from './send-command.ts';
import { compareIds } from './stream-id.ts';
import {
  parseAutoClaimReply,
  parsePendingEntries,
  parseReadGroupReply,
  type RawEntry,
} from './stream-replies.ts';

/** An entry handed to this consumer, with the server's count of its deliveries (this one included). */
export interface Delivery {
  id: string;
  fields: string[];
  deliveryCount: number;
}

export interface PendingRecoveryOptions {
  client: Redis;
  stream: string;
  group: string;
  consumer: string;
  claimIdleMs: number;
  claimIntervalMs: number;
  clock: Clock;
  logger: Logger;
}

const START = '0-0';

/**
 * Finds pending entries that need a handler again, before a consumer reads new ones:
 * - its own pending entries, which nobody else will touch until they have been idle for the claim
 *   time: all of them on start (delivered to this consumer name before a restart), and after the
 *   reading connection was lost, those above the last new entry it saw (delivered to that
 *   connection, reply lost). Read with XREADGROUP from an id, which counts as a delivery; an
 *   entry in hand above that id (only one claimed from another consumer can be) is skipped, but
 *   the server still counts the read as one more delivery of it.
 * - entries of any consumer idle longer than the claim time (a crashed or frozen consumer, or a
 *   retry whose delay ran out), with XAUTOCLAIM, at most every claim interval.
 * Ids this process is handling are never returned. Entries that vanished from the stream while
 * pending were lost to trimming (or XDEL): they are counted and logged as errors.
 */
export class PendingRecovery {
  private readonly options: PendingRecoveryOptions;
  private readonly where: RedisStreamsErrorContext;
  /** Where the scan of this consumer's own pending entries continues; undefined when none is due. */
  private ownCursor: string | undefined = START;
  /** The last id a read of new entries (`>`) returned: anything delivered later is above it. */
  private lastNewId = START;
  private claimCursor = START;
  private lastClaimPassAt = Number.NEGATIVE_INFINITY;
  private lost = 0;

  constructor(options: PendingRecoveryOptions) {
    this.options = options;
    this.where = { stream: options.stream, group: options.group, consumer: options.consumer };
  }

  /** Entries lost to trimming that this process noticed since it started. */
  get lostToTrimming(): number {
    return this.lost;
  }

  noteNewEntries(lastId: string): void {
    if (compareIds(lastId, this.lastNewId) > 0) this.lastNewId = lastId;
  }

  /** The reading connection went away while a read was running: rescan above the last new entry seen. */
  connectionLost(): void {
    const from = this.lastNewId;
    this.ownCursor =
      this.ownCursor === undefined || compareIds(from, this.ownCursor) < 0 ? from : this.ownCursor;
  }

  /** Up to `max` entries to handle again; empty when nothing is due. */
  async next(max: number, inFlight: ReadonlySet<string>): Promise<Delivery[]> {
    const own = await this.rereadOwn(max, inFlight);
    if (own.length > 0) return own;
    const now = this.options.clock.now();
    const passInProgress = this.claimCursor !== START;
    if (!passInProgress && now - this.lastClaimPassAt < this.options.claimIntervalMs) return [];
    return this.claimAbandoned(max, inFlight, now);
  }

  private async rereadOwn(max: number, inFlight: ReadonlySet<string>): Promise<Delivery[]> {
    const { stream, group, consumer, client } = this.options;
    while (this.ownCursor !== undefined) {
      const reply = await sendCommand(client, this.where, 'XREADGROUP', [
        'GROUP',
        group,
        consumer,
        'COUNT',
        max,
        'STREAMS',
        stream,
        this.ownCursor,
      ]);
      const entries = parseReadGroupReply(reply, stream);
      this.ownCursor = entries.length < max ? undefined : entries.at(-1)?.id;
      const found = await this.usable(entries, inFlight, 'its own pending list');
      if (found.length > 0) return found;
    }
    return [];
  }

  private async claimAbandoned(max: number, inFlight: ReadonlySet<string>, now: number): Promise<Delivery[]> {
    const { stream, group, consumer, client, claimIdleMs } = this.options;
    const reply = await sendCommand(client, this.where, 'XAUTOCLAIM', [
      stream,
      group,
      consumer,
      claimIdleMs,
      this.claimCursor,
      'COUNT',
      max,
    ]);
    const claimed = parseAutoClaimReply(reply, stream);
    this.claimCursor = claimed.cursor;
    if (claimed.cursor === START) this.lastClaimPassAt = now;
    // XAUTOCLAIM already dropped these from the pending list.
    this.countLost(claimed.deletedIds, 'XAUTOCLAIM');
    return this.usable(claimed.entries, inFlight, 'XAUTOCLAIM');
  }

  /**
   * Drops ids in hand and deleted entries, then attaches delivery counts. An entry in hand can come
   * back when its keep-alive lapsed; it stays with the handler that has it.
   */
  private async usable(
    entries: readonly RawEntry[],
    inFlight: ReadonlySet<string>,
    via: string,
  ): Promise<Delivery[]> {
    const deleted = entries.filter((e) => e.fields === null).map((e) => e.id);
    if (deleted.length > 0) {
      this.countLost(deleted, via);
      // Still pending on the server: acknowledge so they are not found and counted again.
      await sendCommand(this.options.client, { ...this.where, ids: deleted }, 'XACK', [
        this.options.stream,
        this.options.group,
        ...deleted,
      ]);
    }
    const candidates = entries.filter(
      (e): e is { id: string; fields: string[] } => e.fields !== null && !inFlight.has(e.id),
    );
    return this.withDeliveryCounts(candidates);
  }

  /** Counts from XPENDING, one exact lookup per id; an id no longer pending was settled meanwhile. */
  private async withDeliveryCounts(
    entries: readonly { id: string; fields: string[] }[],
  ): Promise<Delivery[]> {
    if (entries.length === 0) return [];
    const { stream, group, consumer, client } = this.options;
    const batch = client.pipeline();
    for (const e of entries) batch.call('XPENDING', stream, group, e.id, e.id, 1, consumer);
    const replies = (await batch.exec()) ?? [];
    const found: Delivery[] = [];
    entries.forEach((entry, index) => {
      const [error, reply] = replies[index] ?? [new Error('no reply'), null];
      if (error) {
        this.options.logger.warn(
          { ...this.where, ids: [entry.id], err: error.message },
          'could not read the delivery count of a redelivered entry; it stays pending for a later claim',
        );
        return;
      }
      const row = parsePendingEntries(reply, stream)[0];
      if (row) found.push({ ...entry, deliveryCount: row.deliveryCount });
    });
    return found;
  }

  private countLost(ids: readonly string[], via: string): void {
    if (ids.length === 0) return;
    this.lost += ids.length;
    this.options.logger.error(
      { ...this.where, ids: [...ids], lostToTrimming: this.lost },
      `pending entries no longer exist in the stream (found by ${via}): they were trimmed or deleted ` +
        'before being acknowledged, and their deliveries are lost',
    );
  }
}
