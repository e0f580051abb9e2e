import { Counter, Gauge, type Registry } from 'prom-client';
import { durationMs } from '../api/durations.ts';
import type { QueueMigrationSpec } from '../api/spec-schema.ts';
import { STAGES, type StageName } from '../api/stages-schema.ts';
import { PHASES, type QueueMigrationStatus } from '../api/status-schema.ts';

/**
 * The least time a stage takes when every gate stays green and no approval is asked: its
 * configured waits added up. Alerts compare the time spent in a stage with it.
 */
export function stageMinimumMs(spec: QueueMigrationSpec, stage: StageName): number {
  const { stages } = spec;
  switch (stage) {
    case 'dual':
      return durationMs(stages.dual.duration);
    case 'staging':
      return durationMs(stages.staging.duration);
    case 'canary':
      return stages.canary.steps.reduce((total, step) => total + durationMs(step.duration), 0);
    case 'full':
      return durationMs(stages.full.drainWindow) + durationMs(stages.full.bakeTime);
    case 'cleanup':
      return durationMs(stages.cleanup.stabilityWindow);
  }
}

/** The label values of a migration's series that exist one at a time and must go when they change. */
interface Exported {
  stage: StageName | undefined;
  pausedReason: string | undefined;
}

/**
 * One set of series per QueueMigration, labelled `migration` (namespace/name) like the operator's
 * other series, so that a scrape's own `namespace` label (the operator's) never collides with it.
 * Only the leading replica reconciles, so only it exports these; they go when the migration is
 * deleted or the replica stops leading.
 */
export class MigrationSeries {
  private readonly phase: Gauge<'migration' | 'phase'>;
  private readonly stage: Gauge<'migration' | 'stage'>;
  private readonly stageEntered: Gauge<'migration' | 'stage'>;
  private readonly stageMinimum: Gauge<'migration' | 'stage'>;
  private readonly paused: Gauge<'migration' | 'reason'>;
  private readonly rollbacks: Counter<'migration'>;
  private readonly exported = new Map<string, Exported>();

  constructor(registry: Registry) {
    const gauge = <L extends string>(name: string, help: string, labelNames: L[]): Gauge<L> =>
      new Gauge({ name, help, labelNames, registers: [registry] });
    this.phase = gauge(
      'queueshift_migration_phase',
      'Phase of the migration: 1 for the current one, 0 for the others.',
      ['migration', 'phase'],
    );
    this.stage = gauge(
      'queueshift_migration_stage',
      'Stage of the migration (during a rollback, the stage it started from): 1 for the current one, 0 for the others.',
      ['migration', 'stage'],
    );
    this.stageEntered = gauge(
      'queueshift_migration_stage_entered_timestamp_seconds',
      'When the migration entered its current stage (Unix time).',
      ['migration', 'stage'],
    );
    this.stageMinimum = gauge(
      'queueshift_migration_stage_min_duration_seconds',
      'The least time the current stage takes with every gate green and no approval asked: its configured waits added up.',
      ['migration', 'stage'],
    );
    this.paused = gauge(
      'queueshift_migration_paused',
      '1 while the migration holds, with the reason of its Paused condition (SpecPaused, FieldConflict, GatesFailing, AnalysisInconclusive).',
      ['migration', 'reason'],
    );
    this.rollbacks = new Counter({
      name: 'queueshift_migration_rollbacks_total',
      help: 'Rollbacks this replica started (a failed gate, an abort, a deletion).',
      labelNames: ['migration'],
      registers: [registry],
    });
  }

  /** The series of `migration` from the status a reconcile decided on (`before` is the one it read). */
  observe(
    migration: string,
    spec: QueueMigrationSpec,
    before: QueueMigrationStatus,
    after: QueueMigrationStatus,
  ): void {
    const previous = this.exported.get(migration);
    const current = after.phase ?? 'Pending';
    for (const phase of PHASES) this.phase.set({ migration, phase }, phase === current ? 1 : 0);
    for (const stage of STAGES) this.stage.set({ migration, stage }, stage === after.stage ? 1 : 0);
    if (previous?.stage !== undefined && previous.stage !== after.stage)
      this.removeStageTimes(migration, previous.stage);
    if (after.stage !== undefined && after.stageStartedAt !== undefined) {
      const labels = { migration, stage: after.stage };
      this.stageEntered.set(labels, Date.parse(after.stageStartedAt) / 1_000);
      this.stageMinimum.set(labels, stageMinimumMs(spec, after.stage) / 1_000);
    }
    const pausedCondition = after.conditions?.find((c) => c.type === 'Paused' && c.status === 'True');
    if (previous?.pausedReason !== undefined && previous.pausedReason !== pausedCondition?.reason)
      this.paused.remove({ migration, reason: previous.pausedReason });
    if (pausedCondition !== undefined) this.paused.set({ migration, reason: pausedCondition.reason }, 1);
    if (previous === undefined) this.rollbacks.inc({ migration }, 0);
    if (before.phase !== 'RollingBack' && current === 'RollingBack') this.rollbacks.inc({ migration });
    this.exported.set(migration, { stage: after.stage, pausedReason: pausedCondition?.reason });
  }

  /** Removes every series of a migration that is gone. */
  forget(migration: string): void {
    const previous = this.exported.get(migration);
    if (previous === undefined) return;
    for (const phase of PHASES) this.phase.remove({ migration, phase });
    for (const stage of STAGES) this.stage.remove({ migration, stage });
    if (previous.stage !== undefined) this.removeStageTimes(migration, previous.stage);
    if (previous.pausedReason !== undefined) this.paused.remove({ migration, reason: previous.pausedReason });
    this.rollbacks.remove({ migration });
    this.exported.delete(migration);
  }

  /** Keeps the series of these migrations only: after a relist, or none once this replica stops leading. */
  keepOnly(migrations: Iterable<string>): void {
    const kept = new Set(migrations);
    for (const migration of [...this.exported.keys()]) if (!kept.has(migration)) this.forget(migration);
  }

  private removeStageTimes(migration: string, stage: StageName): void {
    this.stageEntered.remove({ migration, stage });
    this.stageMinimum.remove({ migration, stage });
  }
}
