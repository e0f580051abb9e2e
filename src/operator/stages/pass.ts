import type { QueueMigrationSpec } from '../api/spec-schema.ts';
import type { StageName } from '../api/stages-schema.ts';
import { MAX_HISTORY, type HistoryEntry, type QueueMigrationStatus } from '../api/status-schema.ts';
import type { Verdict } from '../analysis/verdict.ts';
import type { Action } from './actions.ts';
import type { Observations } from './observations.ts';
import { TRANSITION_REASONS, type TransitionReason } from './transition-reasons.ts';

/**
 * One evaluation of a QueueMigration: its inputs and the status being worked out. Transitions go
 * through `record`, so each one lands in history (and becomes an Event) exactly once.
 */
export class Pass {
  readonly spec: QueueMigrationSpec;
  readonly observations: Observations;
  readonly now: number;
  readonly generation: number;
  status: QueueMigrationStatus;
  readonly recorded: HistoryEntry[] = [];
  /**
   * Work on the queues themselves (a sweep, a move, deleting a queue) that the pass decided on; it
   * runs after the status recording the decision is written and the Deployments are patched.
   */
  readonly queueActions: Action[] = [];
  /** Verdicts of the analysis of the step the pass ended at, for status.gates. */
  analysisVerdicts: Verdict[] = [];
  /** Earliest moment a time-based wait ends, if any. */
  wakeAt: number | undefined;

  constructor(input: {
    spec: QueueMigrationSpec;
    status: QueueMigrationStatus;
    observations: Observations;
    now: number;
    generation: number;
  }) {
    this.spec = input.spec;
    this.observations = input.observations;
    this.now = input.now;
    this.generation = input.generation;
    this.status = structuredClone(input.status);
  }

  get nowIso(): string {
    return new Date(this.now).toISOString();
  }

  /** Appends a history entry (the latest MAX_HISTORY are kept; sequence numbers never repeat). */
  record(reason: TransitionReason, message: string): void {
    const history = this.status.history ?? [];
    const entry: HistoryEntry = {
      seq: (history.at(-1)?.seq ?? 0) + 1,
      at: this.nowIso,
      reason,
      ...(this.status.stage !== undefined && { stage: this.status.stage }),
      ...(this.status.step !== undefined && { step: this.status.step }),
      message,
    };
    this.status.history = [...history, entry].slice(-MAX_HISTORY);
    this.recorded.push(entry);
  }

  /** Milliseconds since an ISO timestamp of status (0 when unset). */
  since(timestamp: string | undefined): number {
    return timestamp === undefined ? 0 : this.now - Date.parse(timestamp);
  }

  /** Asks to be evaluated again at `at`. */
  wakeUpAt(at: number): void {
    if (at > this.now && (this.wakeAt === undefined || at < this.wakeAt)) this.wakeAt = at;
  }

  /** Moves to a stage and step, clearing what belonged to the previous one. */
  enter(stage: StageName, step: number): void {
    const sameStage = this.status.stage === stage;
    this.status.stage = stage;
    this.status.step = step;
    if (!sameStage) this.status.stageStartedAt = this.nowIso;
    this.status.stepStartedAt = this.nowIso;
    delete this.status.greenSince;
    delete this.status.sqsEmptySince;
    delete this.status.promoted;
  }
}

export function eventType(reason: string): 'Normal' | 'Warning' {
  return reason in TRANSITION_REASONS ? TRANSITION_REASONS[reason as TransitionReason].type : 'Normal';
}
