/**
 * Which consumers of a group count as reading. Redis 7.0's XINFO CONSUMERS `idle` resets only when
 * an entry is delivered to the consumer: empty reads, blocking or not, leave it growing. On a stream
 * with no traffic every healthy reader therefore looks idle, so idle alone cannot tell a consumer
 * that stopped reading from one that had nothing to read. 7.2 adds `inactive`, which every read
 * attempt resets; it is used when the server reports it.
 */
import type { ConsumerInfo } from './xinfo-replies.ts';

export interface ActivityEvidence {
  /** How long ago the consumer must last have shown itself reading. */
  windowMs: number;
  /** Age of the oldest entry nobody was delivered yet (0 when there is none). */
  oldestUndeliveredAgeMs: number;
}

/**
 * A consumer that reads would have been delivered an entry waiting for it within one read, so
 * without `inactive` its silence counts only while something waited: it is inactive when both its
 * idle time and the oldest undelivered entry's age reach the window. A consumer that never joined
 * the group is absent from the list, whatever the stream holds.
 */
export function activeConsumers(consumers: readonly ConsumerInfo[], evidence: ActivityEvidence): string[] {
  const { windowMs, oldestUndeliveredAgeMs } = evidence;
  return consumers
    .filter((consumer) =>
      consumer.inactiveMs === undefined
        ? Math.min(consumer.idleMs, oldestUndeliveredAgeMs) < windowMs
        : // -1: created by XGROUP CREATECONSUMER and never read.
          consumer.inactiveMs >= 0 && consumer.inactiveMs < windowMs,
    )
    .map((consumer) => consumer.name);
}
