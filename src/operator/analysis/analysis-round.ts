import type { StageName } from '../api/stages-schema.ts';
import type { AnalysisStatus, ProbeRoundStatus } from '../api/status-schema.ts';
import { nextCheckAt, type ProbeTiming } from './probe-round.ts';
import type { AnalysisWindow } from './reading.ts';

export interface RoundClock {
  stage: StageName;
  step: number;
  /** When the step started (status.stepStartedAt): rounds are counted from here. */
  anchor: number;
  intervalMs: number;
}

export interface DueRound {
  round: number;
  window: AnalysisWindow;
}

/** The latest round already counted for this step; 0 when the counters belong to another step. */
export function countedRound(clock: RoundClock, analysis: AnalysisStatus | undefined): number {
  return analysis?.stage === clock.stage && analysis.step === clock.step ? analysis.round : 0;
}

/**
 * The round to measure now, if one is due. Round n covers [anchor + (n-1)·interval, anchor +
 * n·interval]: windows follow from status alone, so an operator restarted before its status write
 * measures the same window again, and one that was down for a while measures only the latest.
 */
export function dueRound(
  clock: RoundClock,
  analysis: AnalysisStatus | undefined,
  now: number,
): DueRound | undefined {
  const round = Math.floor((now - clock.anchor) / clock.intervalMs);
  if (round < 1 || round <= countedRound(clock, analysis)) return undefined;
  return roundAt(clock, round);
}

/** Round n of the step, with its window. */
export function roundAt(clock: RoundClock, round: number): DueRound {
  const end = clock.anchor + round * clock.intervalMs;
  return { round, window: { start: end - clock.intervalMs, end } };
}

/** The probes sent for a round of this step that is not counted yet: the round waits for them. */
export function pendingProbes(
  clock: RoundClock,
  analysis: AnalysisStatus | undefined,
): ProbeRoundStatus | undefined {
  return analysis?.stage === clock.stage && analysis.step === clock.step ? analysis.probes : undefined;
}

/**
 * When the round after the latest counted one falls due, or, seen at `now`, when the pending probes
 * are checked next.
 */
export function nextRoundAt(
  clock: RoundClock,
  analysis: AnalysisStatus | undefined,
  now: number,
  probeTiming: ProbeTiming,
): number {
  const probes = pendingProbes(clock, analysis);
  if (probes !== undefined) return nextCheckAt(probes, now, probeTiming);
  return clock.anchor + (countedRound(clock, analysis) + 1) * clock.intervalMs;
}
