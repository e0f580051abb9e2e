import type { StageName } from '../api/stages-schema.ts';
import type { AnalysisStatus } from '../api/status-schema.ts';
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
  const end = clock.anchor + round * clock.intervalMs;
  return { round, window: { start: end - clock.intervalMs, end } };
}

/** When the round after the latest counted one falls due. */
export function nextRoundAt(clock: RoundClock, analysis: AnalysisStatus | undefined): number {
  return clock.anchor + (countedRound(clock, analysis) + 1) * clock.intervalMs;
}
