import type { HistoryEntry, Phase, QueueMigrationStatus, SweepCounters } from '../api/status-schema.ts';
import type { EnvEntry } from './observations.ts';

export type Role = 'producer' | 'consumer';

/** The operator's fields of one container: everything else belongs to whoever owns it. */
export interface ContainerSettings {
  /** Every managed variable the container must carry; an empty value unsets an inherited one. */
  env: EnvEntry[];
  /** The Redis TLS Secret, mounted as a volume, when the spec asks for TLS. */
  tlsVolume?: { secretName: string; mountPath: string };
}

/**
 * What the controller must do, in this order. `writeStatus` comes before any change to a
 * Deployment, so a transition is recorded before it takes effect: a restart neither repeats nor
 * skips one.
 */
export type Action =
  | { kind: 'addFinalizer' }
  | { kind: 'writeStatus'; status: QueueMigrationStatus }
  | { kind: 'applySettings'; deployment: string; container: string; role: Role; settings: ContainerSettings }
  | {
      kind: 'applyCanary';
      producer: string;
      name: string;
      container: string;
      replicas: number;
      settings: ContainerSettings;
    }
  | { kind: 'deleteCanary'; producer: string; name: string }
  | { kind: 'recordEvent'; entry: HistoryEntry; type: 'Normal' | 'Warning' }
  /** A JSON POST of a transition to spec.notificationUrl; best effort, after its Event. */
  | { kind: 'notify'; url: string; entry: HistoryEntry; phase: Phase }
  | { kind: 'removeFinalizer' }
  /**
   * Moves up to `maxMessages` from SQS (then its DLQ) into the stream (its DLQ into `<stream>:dlq`),
   * each deleted from SQS only once Redis holds it; what moved is added to `counted` in status
   * (known only afterwards, so written by a status patch of its own, dated `at`).
   */
  | { kind: 'sweepSqs'; maxMessages: number; counted: SweepCounters; at: string }
  /** Deletes the SQS queue (not its DLQ); status.queueDeletedAt is written first. */
  | { kind: 'deleteSqsQueue' }
  /**
   * Rollback drain: reads up to `maxEntries` stream entries as the operator's own group consumer
   * (its own pending first, then entries idle longer than `claimIdleMs`, the consumers' claim time,
   * then new ones), sends each to SQS and acknowledges it once SQS accepted it. The count shows up
   * as `redisMoves`.
   */
  | { kind: 'moveRedisToSqs'; maxEntries: number; claimIdleMs: number };

export interface Decision {
  status: QueueMigrationStatus;
  actions: Action[];
  /** Look again after this long even if nothing is watched changes (time-based waits, polled figures). */
  requeueAfterMs?: number;
}
