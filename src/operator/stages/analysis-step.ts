import { durationMs } from '../api/durations.ts';
import type { QueueMigrationSpec } from '../api/spec-schema.ts';
import type { QueueMigrationStatus } from '../api/status-schema.ts';
import { analyse, type AnalysisOutcome, type RoundReadings } from '../analysis/analysis-engine.ts';
import { nextRoundAt, type RoundClock } from '../analysis/analysis-round.ts';
import { probeTiming } from '../analysis/probe-round.ts';
import type { Pass } from './pass.ts';

/**
 * The round clock of the current step: defined while the migration goes forward (Progressing, or
 * Paused, where the counters still decide), from the step's start time in status. The reconciler
 * asks it which window to measure; the stage machine, which window it was handed.
 */
export function roundClockOf(spec: QueueMigrationSpec, status: QueueMigrationStatus): RoundClock | undefined {
  const { phase, stage, stepStartedAt } = status;
  if ((phase !== 'Progressing' && phase !== 'Paused') || stage === undefined || stepStartedAt === undefined) {
    return undefined;
  }
  return {
    stage,
    step: status.step ?? 0,
    anchor: Date.parse(stepStartedAt),
    intervalMs: durationMs(spec.analysis.interval),
  };
}

/**
 * The analysis of the step the pass is at: a measured round handed in (only for this very step)
 * is counted into status; the verdicts are kept for status.gates, and the next round is asked for.
 */
export function analyseStep(pass: Pass, measured: RoundReadings | undefined): AnalysisOutcome | undefined {
  const { status, spec } = pass;
  const clock = roundClockOf(spec, status);
  if (clock === undefined) return undefined;
  const outcome = analyse({
    settings: spec.analysis,
    clock,
    previous: status.analysis,
    ...(measured !== undefined && status.phase === 'Progressing' && { measured }),
  });
  if (outcome.status === undefined) delete status.analysis;
  else status.analysis = outcome.status;
  pass.analysisVerdicts = outcome.verdicts;
  if (outcome.verdicts.length > 0 && status.phase === 'Progressing')
    pass.wakeUpAt(nextRoundAt(clock, status.analysis, pass.now, probeTiming(spec.analysis)));
  return outcome;
}

/** What the analysis of the current step still waits for (promote may skip these). */
export function analysisWaits(pass: Pass): string[] {
  const decision = analyseStep(pass, undefined)?.decision;
  return decision?.kind === 'hold' ? decision.waits : [];
}
