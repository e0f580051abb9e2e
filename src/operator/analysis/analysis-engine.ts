import type { AnalysisSettings, MetricSettings } from '../api/analysis-schema.ts';
import type { AnalysisStatus, MetricState, ProbeRoundStatus } from '../api/status-schema.ts';
import { countedRound, type DueRound, type RoundClock } from './analysis-round.ts';
import { judge } from './measurement-verdict.ts';
import { metricsForStage } from './metric-catalog.ts';
import type { AnalysisWindow, Reading } from './reading.ts';
import type { Verdict } from './verdict.ts';

export const ANALYSIS_GATE = 'analysis';

/** What the analysis allows the stage to do, worst first: rollback, pause, hold, advance. */
export type StageDecision =
  | { kind: 'rollback'; reason: string }
  | { kind: 'pause'; reason: string }
  | { kind: 'hold'; waits: string[] }
  | { kind: 'advance' };

export interface RoundReadings {
  due: DueRound;
  /** By metric name; a metric without a reading counts as an error (nobody answered). */
  readings: ReadonlyMap<string, Reading>;
  /**
   * The round's probes, sent and not judged yet: nothing is counted, and they are kept in status
   * for the pass that judges them (the readings are then ignored).
   */
  probes?: ProbeRoundStatus;
}

export interface AnalysisInput {
  settings: AnalysisSettings;
  clock: RoundClock;
  previous: AnalysisStatus | undefined;
  /** The readings of the round `dueRound` named, when one was measured in this pass. */
  measured?: RoundReadings;
}

export interface AnalysisOutcome {
  status: AnalysisStatus | undefined;
  decision: StageDecision;
  verdicts: Verdict[];
}

const ZERO = { successes: 0, failures: 0, inconclusives: 0, errors: 0, consecutiveErrors: 0 };

function count(
  metric: MetricSettings,
  reading: Reading,
  prior: MetricState | undefined,
  previousRaw: number | undefined,
): MetricState {
  const judged = judge(metric, reading, previousRaw);
  const counters = prior ?? { ...ZERO };
  return {
    name: metric.name,
    verdict: judged.verdict,
    ...(judged.value !== undefined && { value: judged.value }),
    threshold: judged.threshold,
    message: judged.message.slice(0, 1_024),
    ...(judged.raw !== undefined && { raw: judged.raw }),
    successes: counters.successes + (judged.verdict === 'success' ? 1 : 0),
    failures: counters.failures + (judged.verdict === 'failure' ? 1 : 0),
    inconclusives:
      counters.inconclusives +
      (judged.verdict === 'inconclusive' && judged.baseline !== true && judged.waiting !== true ? 1 : 0),
    errors: counters.errors + (judged.verdict === 'error' ? 1 : 0),
    consecutiveErrors: judged.verdict === 'error' ? counters.consecutiveErrors + 1 : 0,
  };
}

const isoWindow = (window: AnalysisWindow): AnalysisStatus['window'] => ({
  start: new Date(window.start).toISOString(),
  end: new Date(window.end).toISOString(),
});

/**
 * The counters as they are, with the round's pending probes. Before the step's first counted round,
 * the window is the one the probes measure, and no metric of another step is shown.
 */
function awaitingProbes(
  clock: RoundClock,
  previous: AnalysisStatus | undefined,
  measured: RoundReadings,
  probes: ProbeRoundStatus,
): AnalysisStatus {
  if (previous !== undefined && countedRound(clock, previous) > 0) return { ...previous, probes };
  return {
    stage: clock.stage,
    step: clock.step,
    round: 0,
    window: isoWindow(measured.due.window),
    metrics: [],
    probes,
  };
}

/** Adds a measured round to the counters of the step, once: a round already counted is ignored. */
function record(input: AnalysisInput, metrics: readonly MetricSettings[]): AnalysisStatus | undefined {
  const { clock, previous, measured } = input;
  const counted = countedRound(clock, previous);
  if (measured === undefined || measured.due.round <= counted) return previous;
  if (measured.probes !== undefined) return awaitingProbes(clock, previous, measured, measured.probes);
  const sameStep = counted > 0 ? (previous?.metrics ?? []) : [];
  const entries = metrics.map((metric) => {
    const reading = measured.readings.get(metric.name) ?? { kind: 'error', reason: 'no provider answered' };
    const previousRaw = previous?.metrics.find((m) => m.name === metric.name)?.raw;
    return count(
      metric,
      reading,
      sameStep.find((m) => m.name === metric.name),
      previousRaw,
    );
  });
  return {
    stage: clock.stage,
    step: clock.step,
    round: measured.due.round,
    window: isoWindow(measured.due.window),
    metrics: entries,
  };
}

function describeFailure(entry: MetricState, limit: number): string {
  return (
    `metric ${entry.name} failed: value ${entry.value ?? 'none'}, threshold ${entry.threshold ?? 'none'} ` +
    `(${entry.failures} failure(s), limit ${limit})`
  );
}

function decideFor(
  settings: AnalysisSettings,
  metrics: readonly MetricSettings[],
  entries: readonly MetricState[],
): StageDecision {
  const rollback: string[] = [];
  const pause: string[] = [];
  const waits: string[] = [];
  for (const metric of metrics) {
    const entry = entries.find((m) => m.name === metric.name);
    if (entry === undefined) {
      waits.push(`metric ${metric.name}: no measurement yet`);
      continue;
    }
    if (entry.failures > settings.failureLimit) rollback.push(describeFailure(entry, settings.failureLimit));
    if (entry.consecutiveErrors > settings.consecutiveErrorLimit) {
      rollback.push(
        `metric ${entry.name}: ${entry.consecutiveErrors} consecutive provider errors ` +
          `(limit ${settings.consecutiveErrorLimit}): ${entry.message}`,
      );
    }
    if (entry.inconclusives > settings.inconclusiveLimit) {
      const why =
        `metric ${entry.name}: ${entry.inconclusives} inconclusive measurement(s) ` +
        `(limit ${settings.inconclusiveLimit}): ${entry.message}`;
      (settings.inconclusivePolicy === 'rollback' ? rollback : pause).push(why);
    }
    if (entry.verdict !== 'success') waits.push(entry.message);
  }
  if (rollback.length > 0) return { kind: 'rollback', reason: rollback.join('; ') };
  if (pause.length > 0) return { kind: 'pause', reason: pause.join('; ') };
  if (waits.length > 0) return { kind: 'hold', waits };
  return { kind: 'advance' };
}

/**
 * The analysis of one step, pure: the measured round (if any) added to the step's counters, and
 * what the stage may do. No metric applying is no objection; a metric not yet measured, or whose
 * latest reading is not a success, holds the step (no data never counts as success).
 */
export function analyse(input: AnalysisInput): AnalysisOutcome {
  const metrics = metricsForStage(input.settings, input.clock.stage);
  const status = record(input, metrics);
  const entries = countedRound(input.clock, status) > 0 ? (status?.metrics ?? []) : [];
  const verdicts = metrics.map((metric): Verdict => {
    const entry = entries.find((m) => m.name === metric.name);
    return {
      gate: ANALYSIS_GATE,
      verdict: entry?.verdict ?? 'inconclusive',
      metric: metric.name,
      ...(entry?.value !== undefined && { value: entry.value }),
      ...(entry?.threshold !== undefined && { threshold: entry.threshold }),
      message: entry?.message ?? `metric ${metric.name}: no measurement yet`,
      // Metric waits are what promote may skip; the failure and error limits still roll back.
      promotable: true,
    };
  });
  return { status, decision: decideFor(input.settings, metrics, entries), verdicts };
}
