import { describe, expect, it } from 'vitest';
import { analysisSettings, type AnalysisSettings } from '../../../../src/operator/api/analysis-schema.ts';
import type { AnalysisStatus } from '../../../../src/operator/api/status-schema.ts';
import { analyse, type StageDecision } from '../../../../src/operator/analysis/analysis-engine.ts';
import { dueRound, type RoundClock } from '../../../../src/operator/analysis/analysis-round.ts';
import { metricsForStage } from '../../../../src/operator/analysis/metric-catalog.ts';
import type { Reading } from '../../../../src/operator/analysis/reading.ts';

const T0 = Date.parse('2026-11-26T10:00:00.000Z');
const INTERVAL = 10_000;
const CANARY: RoundClock = { stage: 'canary', step: 0, anchor: T0, intervalMs: INTERVAL };

function settings(overrides: Record<string, unknown> = {}): AnalysisSettings {
  return analysisSettings.parse({
    interval: '10s',
    defaultMetrics: false,
    prometheus: { url: 'http://127.0.0.1:9090' },
    metrics: [
      {
        name: 'error-rate',
        query: 'rate(x[1m])',
        threshold: { operator: '<', value: 0.05 },
        stages: ['canary'],
      },
    ],
    ...overrides,
  });
}

const value = (v: number): Reading => ({ kind: 'value', value: v });
const noData: Reading = { kind: 'no-data', reason: 'the query returned no sample' };
const down: Reading = { kind: 'error', reason: 'connect ECONNREFUSED 127.0.0.1:9' };

/** Feeds one reading of `error-rate` per round, as the reconciler would every interval. */
function run(
  config: AnalysisSettings,
  readings: Reading[],
  clock = CANARY,
): { decisions: StageDecision[]; status: AnalysisStatus | undefined } {
  let status: AnalysisStatus | undefined;
  const decisions: StageDecision[] = [];
  readings.forEach((reading, index) => {
    const now = clock.anchor + (index + 1) * clock.intervalMs;
    const due = dueRound(clock, status, now);
    if (due === undefined) throw new Error(`no round due at ${now}`);
    const outcome = analyse({
      settings: config,
      clock,
      previous: status,
      measured: { due, readings: new Map([['error-rate', reading]]) },
    });
    status = outcome.status;
    decisions.push(outcome.decision);
  });
  return { decisions, status };
}

const kinds = (decisions: StageDecision[]): string[] => decisions.map((d) => d.kind);

describe('analysis rounds', () => {
  it.each([
    { what: 'before the first interval ends', now: T0 + 9_999, counted: 0, due: undefined },
    {
      what: 'when the first interval ends',
      now: T0 + 10_000,
      counted: 0,
      due: { round: 1, start: T0, end: T0 + 10_000 },
    },
    { what: 'once the round was counted', now: T0 + 15_000, counted: 1, due: undefined },
    {
      what: 'after a long outage: only the latest round',
      now: T0 + 47_000,
      counted: 1,
      due: { round: 4, start: T0 + 30_000, end: T0 + 40_000 },
    },
  ])('$what', ({ now, counted, due }) => {
    const previous: AnalysisStatus | undefined =
      counted === 0
        ? undefined
        : { stage: 'canary', step: 0, round: counted, window: { start: '', end: '' }, metrics: [] };
    const round = dueRound(CANARY, previous, now);
    expect(round && { round: round.round, start: round.window.start, end: round.window.end }).toEqual(due);
  });

  it('starts counting again when the step changes', () => {
    const previous: AnalysisStatus = {
      stage: 'canary',
      step: 0,
      round: 7,
      window: { start: '', end: '' },
      metrics: [],
    };
    expect(dueRound({ ...CANARY, step: 1 }, previous, T0 + 10_000)?.round).toBe(1);
  });
});

describe('verdicts and limits', () => {
  const config = settings();
  it.each([
    { what: 'a success allows advancing', config, readings: [value(0.01)], expected: ['advance'] },
    {
      what: 'a failure at failure limit 0 rolls back',
      config,
      readings: [value(0.2)],
      expected: ['rollback'],
    },
    {
      what: 'failures within the failure limit hold, the one past it rolls back',
      config: settings({ failureLimit: 1 }),
      readings: [value(0.2), value(0.01), value(0.3)],
      expected: ['hold', 'advance', 'rollback'],
    },
    {
      what: 'no data holds, then pauses past the inconclusive limit (policy pause)',
      config: settings({ inconclusiveLimit: 2 }),
      readings: [noData, noData, value(0.01), noData],
      expected: ['hold', 'hold', 'advance', 'pause'],
    },
    {
      what: 'no data past the inconclusive limit rolls back with policy rollback',
      config: settings({ inconclusiveLimit: 0, inconclusivePolicy: 'rollback' }),
      readings: [noData],
      expected: ['rollback'],
    },
    {
      what: 'a NaN value is no data, never success',
      config: settings({ inconclusiveLimit: 5 }),
      readings: [value(Number.NaN)],
      expected: ['hold'],
    },
    {
      what: 'provider errors hold until past the consecutive error limit',
      config: settings({ consecutiveErrorLimit: 2 }),
      readings: [down, down, down],
      expected: ['hold', 'hold', 'rollback'],
    },
    {
      what: 'an answered measurement resets the consecutive errors',
      config: settings({ consecutiveErrorLimit: 1 }),
      readings: [down, value(0.01), down, value(0.01)],
      expected: ['hold', 'advance', 'hold', 'advance'],
    },
  ])('$what', ({ config: c, readings, expected }) => {
    expect(kinds(run(c, readings).decisions)).toEqual(expected);
  });

  it('names metric, value and threshold when it rolls back, and keeps counters and window in status', () => {
    const { decisions, status } = run(settings({ failureLimit: 1 }), [value(0.01), value(0.2), value(0.25)]);
    expect(decisions.at(-1)).toEqual({
      kind: 'rollback',
      reason: 'metric error-rate failed: value 0.25, threshold < 0.05 (2 failure(s), limit 1)',
    });
    expect(status).toEqual({
      stage: 'canary',
      step: 0,
      round: 3,
      window: { start: '2026-11-26T10:00:20.000Z', end: '2026-11-26T10:00:30.000Z' },
      metrics: [
        {
          name: 'error-rate',
          verdict: 'failure',
          value: '0.25',
          threshold: '< 0.05',
          message: 'metric error-rate: value 0.25 fails threshold < 0.05',
          successes: 1,
          failures: 2,
          inconclusives: 0,
          errors: 0,
          consecutiveErrors: 0,
        },
      ],
    });
  });

  it('counts a round once, however often the same round is handed in', () => {
    const first = run(settings({ failureLimit: 1 }), [value(0.2)]);
    const again = analyse({
      settings: settings({ failureLimit: 1 }),
      clock: CANARY,
      previous: first.status,
      measured: {
        due: { round: 1, window: { start: T0, end: T0 + INTERVAL } },
        readings: new Map([['error-rate', value(0.2)]]),
      },
    });
    expect(again.status?.metrics[0]?.failures).toBe(1);
    expect(again.decision.kind).toBe('hold');
  });

  it('holds a step whose metrics were not measured yet, and reports them as inconclusive', () => {
    const outcome = analyse({ settings: settings(), clock: CANARY, previous: undefined });
    expect(outcome.decision).toEqual({ kind: 'hold', waits: ['metric error-rate: no measurement yet'] });
    expect(outcome.verdicts.map((v) => [v.metric, v.verdict])).toEqual([['error-rate', 'inconclusive']]);
  });

  it('does not hold a stage no metric applies to', () => {
    const outcome = analyse({
      settings: settings(),
      clock: { ...CANARY, stage: 'dual' },
      previous: undefined,
    });
    expect(outcome.decision).toEqual({ kind: 'advance' });
  });
});

describe('built-in metrics', () => {
  it('apply only where traffic exists, so an idle dual waits on consumers alone', () => {
    const defaults = settings({ defaultMetrics: true, metrics: [] });
    expect(metricsForStage(defaults, 'dual').map((m) => m.name)).toEqual(['redis-missing-consumers']);
    expect(metricsForStage(defaults, 'full').map((m) => m.name)).toEqual([
      'redis-backlog',
      'redis-oldest-pending-age',
      'redis-oldest-undelivered-age',
      'redis-dead-letter-growth',
      'redis-lost-to-trimming',
      'redis-memory-headroom',
    ]);
  });

  it('lets a spec metric of the same name replace a default', () => {
    const replaced = settings({
      defaultMetrics: true,
      metrics: [
        { name: 'redis-backlog', redis: 'backlog', threshold: { operator: '<', value: 5 }, stages: ['full'] },
      ],
    });
    const backlog = metricsForStage(replaced, 'full').filter((m) => m.name === 'redis-backlog');
    expect(backlog).toEqual([
      { name: 'redis-backlog', redis: 'backlog', threshold: { operator: '<', value: 5 }, stages: ['full'] },
    ]);
  });

  it('measures dead-letter growth against the previous round, carried across steps', () => {
    const dlq = settings({
      inconclusiveLimit: 5,
      metrics: [
        {
          name: 'error-rate',
          redis: 'dead-letter-growth',
          threshold: { operator: '<=', value: 0 },
          stages: ['canary'],
        },
      ],
    });
    const { decisions, status } = run(dlq, [value(4), value(4), value(6)]);
    expect(kinds(decisions)).toEqual(['hold', 'advance', 'rollback']);
    expect(status?.metrics[0]).toMatchObject({ value: '2', raw: 6, inconclusives: 0 });
    const nextStep = analyse({
      settings: dlq,
      clock: { ...CANARY, step: 1 },
      previous: status,
      measured: {
        due: { round: 1, window: { start: T0, end: T0 + INTERVAL } },
        readings: new Map([['error-rate', value(6)]]),
      },
    });
    expect(nextStep.decision.kind).toBe('advance');
    expect(nextStep.status?.metrics[0]).toMatchObject({ value: '0', failures: 0, successes: 1 });
  });
});
