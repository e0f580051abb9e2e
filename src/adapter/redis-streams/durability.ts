/**
 * How many acknowledged publishes a Redis setting can lose, and to what (DESIGN.md §1: "the
 * write-loss window of the chosen setting is reported, not hidden"). Pure: read-durability.ts
 * gathers the facts from the server.
 */
import type { RedisStreamsConfig } from '../config.ts';
import type { Known } from '../types.ts';

/** What the server says about itself; a fact it refused to tell (ACLs, renamed commands) is unknown. */
export interface DurabilityFacts {
  /** `master`, or `slave` when the connection ended up on a replica. */
  role: Known<string>;
  connectedReplicas: Known<number>;
  /** How far the furthest-behind connected replica trails the primary, in bytes of replication stream. */
  replicaLagBytes: Known<number>;
  /**
   * `min-replicas-to-write` and `min-replicas-max-lag` (CONFIG GET): the primary refuses writes
   * while fewer than `toWrite` replicas acknowledged within the last `maxLagS` seconds.
   */
  minReplicas: Known<{ toWrite: number; maxLagS: number }>;
  aofEnabled: Known<boolean>;
  /** `always`, `everysec` or `no` (CONFIG GET, often denied to least-privilege users). */
  appendfsync: Known<string>;
  /** RDB save points as `save` lists them, `''` for none (CONFIG GET). */
  rdbSavePoints: Known<string>;
  changesSinceLastSnapshot: Known<number>;
  /** When the last RDB snapshot was taken (ms since the epoch). */
  lastSnapshotAt: Known<number>;
}

/**
 * Acknowledged publishes at risk from one kind of event. `bounded`: at most the publishes of the
 * last `upToMs`. `not-applicable`: the event cannot happen with this setting.
 */
export type LossWindow =
  | { kind: 'none' | 'unbounded' | 'unknown' | 'not-applicable'; why: string }
  | { kind: 'bounded'; upToMs: number; why: string };

export interface DurabilityReport extends DurabilityFacts {
  /** The WAIT every publish makes before it resolves (REDIS_WAIT_REPLICAS), if any. */
  wait: RedisStreamsConfig['waitReplicas'];
  /** The primary lost and a replica promoted (Sentinel failover). */
  lossOnFailover: LossWindow;
  /** The primary crashes (process or host) and restarts from its own disk. */
  lossOnRestart: LossWindow;
}

/** AOF with `everysec`: Redis fsyncs every second, and lets a stalled fsync delay writes for up to 2 s. */
const EVERYSEC_WINDOW_MS = 2_000;
/** AOF with `no`: the kernel writes dirty pages back after 30 s by default (vm.dirty_expire_centisecs). */
const KERNEL_WRITEBACK_MS = 30_000;
/** A replica acknowledges its offset once a second: its measured lag can be up to that much stale. */
const REPLICA_ACK_PERIOD_MS = 1_000;

function lossOnFailover(facts: DurabilityFacts, wait: DurabilityReport['wait']): LossWindow {
  if (wait !== undefined) {
    return {
      kind: 'none',
      why:
        `every publish waits until ${wait.replicas} replica(s) have it (WAIT, ${wait.timeoutMs} ms); ` +
        'short of that it fails with REDIS_STREAMS_REPLICATION_SHORT instead of resolving',
    };
  }
  const replicas = facts.connectedReplicas;
  if (!replicas.known) return { kind: 'unknown', why: replicas.reason };
  if (replicas.value === 0) {
    return {
      kind: 'not-applicable',
      why: 'no replica is connected, so there is none to promote: a lost primary is a restart',
    };
  }
  const lag = facts.replicaLagBytes.known ? `${facts.replicaLagBytes.value} bytes` : 'an unknown amount';
  const asynchronous =
    `replication is asynchronous and publishes do not WAIT: what the promoted replica had not yet ` +
    `received is lost (the furthest replica trails by ${lag} now)`;
  const { minReplicas } = facts;
  if (!minReplicas.known) return { kind: 'unknown', why: `${asynchronous}; ${minReplicas.reason}` };
  const { toWrite, maxLagS } = minReplicas.value;
  if (toWrite < 1 || maxLagS < 1) {
    return {
      kind: 'unbounded',
      why: `${asynchronous}, and min-replicas-to-write is off, so nothing bounds it; REDIS_WAIT_REPLICAS closes this window`,
    };
  }
  return {
    kind: 'bounded',
    upToMs: maxLagS * 1_000 + REPLICA_ACK_PERIOD_MS,
    why:
      `${asynchronous}; the primary refuses writes once fewer than ${toWrite} replica(s) acknowledged ` +
      `within ${maxLagS} s (min-replicas-max-lag, measured from acknowledgements sent every second), ` +
      'so at most about that much is lost; REDIS_WAIT_REPLICAS closes this window',
  };
}

/** The longest interval among RDB save points (`<seconds> <changes>` pairs). */
function longestSaveIntervalMs(savePoints: string): number {
  const numbers = savePoints.trim().split(/\s+/).map(Number);
  let longest = 0;
  for (let i = 0; i < numbers.length; i += 2) longest = Math.max(longest, numbers[i] ?? 0);
  return longest * 1_000;
}

function lossOnRestart(facts: DurabilityFacts, now: number): LossWindow {
  const { aofEnabled, appendfsync, rdbSavePoints } = facts;
  if (!aofEnabled.known) return { kind: 'unknown', why: aofEnabled.reason };
  if (aofEnabled.value) {
    if (!appendfsync.known) {
      return { kind: 'unknown', why: `AOF is on, but its fsync policy is unknown: ${appendfsync.reason}` };
    }
    switch (appendfsync.value) {
      case 'always':
        return {
          kind: 'none',
          why: 'AOF with appendfsync always: a write is on disk before it is acknowledged',
        };
      case 'everysec':
        return {
          kind: 'bounded',
          upToMs: EVERYSEC_WINDOW_MS,
          why: 'AOF with appendfsync everysec: about the last second of publishes, up to 2 s when a fsync stalls',
        };
      case 'no':
        return {
          kind: 'bounded',
          upToMs: KERNEL_WRITEBACK_MS,
          why: 'AOF with appendfsync no: whatever the kernel had not written back, typically up to 30 s',
        };
      default:
        return {
          kind: 'unknown',
          why: `AOF is on with an fsync policy this adapter does not know: ${appendfsync.value}`,
        };
    }
  }
  if (!rdbSavePoints.known) {
    return {
      kind: 'unknown',
      why: `AOF is off, and the RDB save points are unknown: ${rdbSavePoints.reason}`,
    };
  }
  if (rdbSavePoints.value.trim() === '') {
    return { kind: 'unbounded', why: 'neither AOF nor RDB snapshots: a restart loses every entry' };
  }
  const exposure =
    facts.changesSinceLastSnapshot.known && facts.lastSnapshotAt.known
      ? `; right now ${facts.changesSinceLastSnapshot.value} writes of the last ` +
        `${Math.max(0, Math.round((now - facts.lastSnapshotAt.value) / 1_000))} s`
      : '';
  return {
    kind: 'bounded',
    upToMs: longestSaveIntervalMs(rdbSavePoints.value),
    why: `AOF off, RDB snapshots (save ${rdbSavePoints.value}): everything since the last snapshot${exposure}`,
  };
}

export function assessDurability(
  facts: DurabilityFacts,
  wait: DurabilityReport['wait'],
  now: number,
): DurabilityReport {
  return {
    ...facts,
    wait,
    lossOnFailover: lossOnFailover(facts, wait),
    lossOnRestart: lossOnRestart(facts, now),
  };
}
