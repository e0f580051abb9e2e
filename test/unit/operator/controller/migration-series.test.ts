import { describe, expect, it } from 'vitest';
import { queueMigrationSpec } from '../../../../src/operator/api/spec-schema.ts';
import type { Condition, QueueMigrationStatus } from '../../../../src/operator/api/status-schema.ts';
import { stageMinimumMs } from '../../../../src/operator/controller/migration-series.ts';
import { OperatorMetrics } from '../../../../src/operator/controller/operator-metrics.ts';
import { minimalSpec } from '../fixtures/migrations.ts';

const KEY = 'team/webhooks';
const SPEC = queueMigrationSpec.parse({
  ...minimalSpec(),
  stages: {
    dual: { duration: '5m' },
    canary: {
      steps: [
        { weight: 10, duration: '10m' },
        { weight: 50, duration: '20m' },
      ],
    },
    full: { bakeTime: '1h', drainWindow: '2m' },
  },
});

const paused = (reason: string): Condition => ({
  type: 'Paused',
  status: 'True',
  reason,
  message: '',
  lastTransitionTime: '2026-01-01T00:00:00Z',
  observedGeneration: 1,
});

/** The samples of `family` in the exposition, as `labels value` lines. */
async function samples(metrics: OperatorMetrics, family: string): Promise<string[]> {
  const text = await metrics.registry.metrics();
  return text
    .split('\n')
    .filter((line) => line.startsWith(`${family}{`))
    .map((line) => line.slice(family.length));
}

describe('the migration series', () => {
  it.each([
    ['dual', 5 * 60_000],
    ['staging', 10 * 60_000],
    ['canary', 30 * 60_000],
    ['full', 62 * 60_000],
    ['cleanup', 24 * 3_600_000],
  ] as const)('adds up the configured waits of %s', (stage, ms) => {
    expect(stageMinimumMs(SPEC, stage)).toBe(ms);
  });

  it('exports the phase and stage as 1 for the current one and 0 for the others, with the stage times', async () => {
    const metrics = new OperatorMetrics();
    const status: QueueMigrationStatus = {
      phase: 'Progressing',
      stage: 'canary',
      stageStartedAt: '2026-01-01T10:00:00Z',
    };
    metrics.migrations.observe(KEY, SPEC, {}, status);

    const phases = await samples(metrics, 'queueshift_migration_phase');
    expect(phases).toHaveLength(6);
    expect(phases.filter((line) => line.endsWith(' 1'))).toEqual([
      '{migration="team/webhooks",phase="Progressing"} 1',
    ]);
    const stages = await samples(metrics, 'queueshift_migration_stage');
    expect(stages.filter((line) => line.endsWith(' 1'))).toEqual([
      '{migration="team/webhooks",stage="canary"} 1',
    ]);
    expect(await samples(metrics, 'queueshift_migration_stage_entered_timestamp_seconds')).toEqual([
      `{migration="team/webhooks",stage="canary"} ${String(Date.parse('2026-01-01T10:00:00Z') / 1_000)}`,
    ]);
    expect(await samples(metrics, 'queueshift_migration_stage_min_duration_seconds')).toEqual([
      '{migration="team/webhooks",stage="canary"} 1800',
    ]);
    expect(await samples(metrics, 'queueshift_migration_rollbacks_total')).toEqual([
      '{migration="team/webhooks"} 0',
    ]);
  });

  it('keeps one stage-time series and one pause reason, those of the latest status', async () => {
    const metrics = new OperatorMetrics();
    const dual: QueueMigrationStatus = {
      phase: 'Paused',
      stage: 'dual',
      stageStartedAt: '2026-01-01T10:00:00Z',
      conditions: [paused('SpecPaused')],
    };
    metrics.migrations.observe(KEY, SPEC, {}, dual);
    const staging: QueueMigrationStatus = {
      phase: 'Paused',
      stage: 'staging',
      stageStartedAt: '2026-01-01T11:00:00Z',
      conditions: [paused('FieldConflict')],
    };
    metrics.migrations.observe(KEY, SPEC, dual, staging);

    expect(await samples(metrics, 'queueshift_migration_stage_min_duration_seconds')).toEqual([
      '{migration="team/webhooks",stage="staging"} 600',
    ]);
    expect(await samples(metrics, 'queueshift_migration_paused')).toEqual([
      '{migration="team/webhooks",reason="FieldConflict"} 1',
    ]);

    metrics.migrations.observe(KEY, SPEC, staging, {
      ...staging,
      phase: 'Progressing',
      conditions: [{ ...paused('NotPaused'), status: 'False' }],
    });
    expect(await samples(metrics, 'queueshift_migration_paused')).toEqual([]);
  });

  it('counts a rollback once, when the phase turns to RollingBack', async () => {
    const metrics = new OperatorMetrics();
    const progressing: QueueMigrationStatus = { phase: 'Progressing', stage: 'full' };
    const rollingBack: QueueMigrationStatus = { phase: 'RollingBack', stage: 'full' };
    metrics.migrations.observe(KEY, SPEC, {}, progressing);
    metrics.migrations.observe(KEY, SPEC, progressing, rollingBack);
    metrics.migrations.observe(KEY, SPEC, rollingBack, rollingBack);
    metrics.migrations.observe(KEY, SPEC, rollingBack, { ...rollingBack, phase: 'RolledBack' });

    expect(await samples(metrics, 'queueshift_migration_rollbacks_total')).toEqual([
      '{migration="team/webhooks"} 1',
    ]);
  });

  it('removes every series of a deleted migration, and of all of them once the replica stops leading', async () => {
    const metrics = new OperatorMetrics();
    const status: QueueMigrationStatus = {
      phase: 'Paused',
      stage: 'dual',
      stageStartedAt: '2026-01-01T10:00:00Z',
      conditions: [paused('SpecPaused')],
    };
    metrics.migrations.observe(KEY, SPEC, {}, status);
    metrics.migrations.observe('team/other', SPEC, {}, status);

    metrics.migrations.forget(KEY);
    let text = await metrics.registry.metrics();
    expect(text).not.toContain('team/webhooks');
    expect(text).toContain('migration="team/other"');

    metrics.migrations.keepOnly([]);
    text = await metrics.registry.metrics();
    expect(text).not.toMatch(/^queueshift_migration_\w+\{/m);
  });
});
