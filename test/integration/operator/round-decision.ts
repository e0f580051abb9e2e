import type { MetricSettings } from '../../../src/operator/api/analysis-schema.ts';
import { analysisSettings } from '../../../src/operator/api/analysis-schema.ts';
import type { AnalysisStatus } from '../../../src/operator/api/status-schema.ts';
import { analyse, type StageDecision } from '../../../src/operator/analysis/analysis-engine.ts';
import type { Reading } from '../../../src/operator/analysis/reading.ts';

/** Strict limits: one failure or error rolls back, one round without data pauses. */
const STRICT = {
  failureLimit: 0,
  inconclusiveLimit: 0,
  consecutiveErrorLimit: 0,
  inconclusivePolicy: 'pause',
};

/**
 * The stage decision the analysis takes on a metric's readings, one per round, in the given stage.
 * What the providers measured for real goes through the same pure engine the operator runs.
 */
export function decideOnRounds(metric: MetricSettings, readings: readonly Reading[]): StageDecision {
  const settings = analysisSettings.parse({
    ...STRICT,
    defaultMetrics: false,
    ...(metric.query !== undefined && { prometheus: { url: 'http://127.0.0.1:1' } }),
    metrics: [metric],
  });
  const stage = metric.stages[0] ?? 'canary';
  const clock = { stage, step: 0, anchor: 0, intervalMs: 1_000 };
  let previous: AnalysisStatus | undefined;
  let decision: StageDecision = { kind: 'hold', waits: [] };
  readings.forEach((reading, index) => {
    const round = index + 1;
    const outcome = analyse({
      settings,
      clock,
      previous,
      measured: {
        due: { round, window: { start: round * 1_000 - 1_000, end: round * 1_000 } },
        readings: new Map([[metric.name, reading]]),
      },
    });
    previous = outcome.status;
    decision = outcome.decision;
  });
  return decision;
}
