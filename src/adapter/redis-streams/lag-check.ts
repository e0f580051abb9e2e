/**
 * Whether a group's reported lag can be believed. XINFO GROUPS derives lag from counters
 * (entries-added minus entries-read) that are NULL when the server cannot tell and were wrong after
 * XDEL/XTRIM in some releases; the first undelivered entry is the independent witness. The gates
 * act on backlog, so an unknown lag must never read as 0.
 */
import type { Known } from '../types.ts';

export interface LagObservation {
  /** XINFO GROUPS `lag`; null when the server reports NULL. */
  reported: number | null;
  lastDeliveredId: string;
  /**
   * The first entry after last-delivered-id among those that existed when lag was read (bounded by
   * that moment's last-generated-id, so an entry added since does not count); absent when none.
   */
  oldestUndeliveredId: string | undefined;
}

export function crossCheckLag(observation: LagObservation): Known<number> {
  const { reported, lastDeliveredId, oldestUndeliveredId } = observation;
  if (reported === null) {
    return {
      known: false,
      reason:
        'XINFO GROUPS reports lag as NULL: entries were deleted after the group position or the group ' +
        'position was set without ENTRIESREAD',
    };
  }
  if (reported === 0 && oldestUndeliveredId !== undefined) {
    return {
      known: false,
      reason: `XINFO GROUPS reports lag 0, but entry ${oldestUndeliveredId} after last-delivered-id ${lastDeliveredId} was never delivered`,
    };
  }
  if (reported > 0 && oldestUndeliveredId === undefined) {
    return {
      known: false,
      reason: `XINFO GROUPS reports lag ${reported}, but no entry exists after last-delivered-id ${lastDeliveredId}`,
    };
  }
  return { known: true, value: reported };
}

/** Backlog = lag + pending; unknown, with lag's reason, when lag is. */
export function backlogOf(lag: Known<number>, pending: number): Known<number> {
  return lag.known ? { known: true, value: lag.value + pending } : lag;
}
