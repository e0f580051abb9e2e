/**
 * What periodic maintenance may remove, decided from what the server reported: how far the stream
 * can be trimmed, and which consumers of the group can go. Pure, so the rules are tested as such.
 */
import { compareIds, minId, successorId } from './stream-id.ts';
import type { ConsumerInfo } from './xinfo-replies.ts';

export interface GroupPosition {
  group: string;
  lastDeliveredId: string;
  /** Smallest id the group has delivered but not acknowledged; absent when nothing is pending. */
  oldestPendingId?: string;
}

/**
 * The XTRIM MINID bound: every entry below it was delivered to every group and acknowledged by it.
 * Per group that is its oldest pending entry, or, with nothing pending, the first entry it has not
 * been given (the successor of last-delivered-id); the stream is trimmed to the smallest of these.
 * Undefined without groups: entries published before the first group exists are still owed to it.
 */
export function trimFloor(groups: readonly GroupPosition[]): string | undefined {
  const floors = groups.map((g) => {
    const undelivered = successorId(g.lastDeliveredId);
    return g.oldestPendingId !== undefined && compareIds(g.oldestPendingId, undelivered) < 0
      ? g.oldestPendingId
      : undelivered;
  });
  return minId(floors);
}

/**
 * Consumers to delete from the group: nothing pending (deleting a consumer drops its pending
 * entries from the group for good) and idle longer than `idleThresholdMs`; never `self`.
 */
export function consumersToDelete(
  consumers: readonly ConsumerInfo[],
  self: string,
  idleThresholdMs: number,
): string[] {
  return consumers
    .filter((c) => c.name !== self && c.pending === 0 && c.idleMs > idleThresholdMs)
    .map((c) => c.name);
}
