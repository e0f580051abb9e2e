import { describe, expect, it } from 'vitest';
import { analysisSettings } from '../../../src/operator/api/analysis-schema.ts';
import type { AnalysisStatus, ProbeRoundStatus } from '../../../src/operator/api/status-schema.ts';
import { analyse } from '../../../src/operator/analysis/analysis-engine.ts';
import {
  dueRound,
  nextRoundAt,
  pendingProbes,
  type RoundClock,
} from '../../../src/operator/analysis/analysis-round.ts';
import { metricsForStage } from '../../../src/operator/analysis/metric-catalog.ts';
import { probeOf } from '../../../src/operator/analysis/probe-delivery.ts';
import { probeReadings } from '../../../src/operator/analysis/probe-readings.ts';
import {
  checkedRound,
  sentRound,
  type DoneMarks,
  type ProbeRoundState,
} from '../../../src/operator/analysis/probe-round.ts';

const TIMING = { timeoutMs: 2_000, checkEveryMs: 250 };
const SENT_AT = Date.parse('2026-11-26T10:00:10.000Z');
const at = (offsetMs: number): string => new Date(SENT_AT + offsetMs).toISOString();
const probes = ['p-0', 'p-1'].map((id) => probeOf('team/webhooks', id, 'stream'));
const read = (...done: string[]): DoneMarks => ({ kind: 'read', done: new Set(done) });

const settings = analysisSettings.parse({ interval: '10s', defaultMetrics: true });
const probeMetrics = metricsForStage(settings, 'staging').filter((m) => m.probe !== undefined);

function pending(state: ProbeRoundState): ProbeRoundStatus {
  if (state.kind !== 'pending') throw new Error(`expected a pending round, got ${JSON.stringify(state)}`);
  return state.status;
}

function judged(state: ProbeRoundState) {
  if (state.kind !== 'judged') throw new Error(`expected a judged round, got ${JSON.stringify(state)}`);
  return probeReadings(probeMetrics, state.outcomes, TIMING.timeoutMs);
}

/** The round as the sending pass leaves it; each later pass checks it once, at its own `now`. */
const sent = (): ProbeRoundStatus => pending(sentRound(1, SENT_AT, probes, new Map(), TIMING));

describe('a probe round over several passes', () => {
  it('is pending once sent, records its ids and send time, and is first checked one interval on', () => {
    expect(sent()).toEqual({
      round: 1,
      sentAt: at(0),
      checkAt: at(250),
      probes: [
        { deliveryId: 'p-0', route: 'stream' },
        { deliveryId: 'p-1', route: 'stream' },
      ],
    });
  });

  it('stays pending while a probe is unmarked, then succeeds with the round trip of each probe', () => {
    const first = pending(checkedRound(sent(), read('p-1'), SENT_AT + 250, TIMING));
    expect(first.checkAt).toBe(at(500));
    expect(first.probes).toEqual([
      { deliveryId: 'p-0', route: 'stream' },
      { deliveryId: 'p-1', route: 'stream', roundTripMs: 250 },
    ]);
    // A later read that no longer sees p-1 (it is not asked again) keeps its first round trip.
    const second = pending(checkedRound(first, read(), SENT_AT + 500, TIMING));
    const readings = judged(checkedRound(second, read('p-0'), SENT_AT + 750, TIMING));
    expect(readings.get('probe-failures')).toMatchObject({ kind: 'value', value: 0 });
    expect(readings.get('probe-round-trip-p50')).toMatchObject({ kind: 'value', value: 0.25 });
    expect(readings.get('probe-round-trip-p99')).toMatchObject({ kind: 'value', value: 0.75 });
  });

  it('fails only at the timeout, naming the probes no worker marked done', () => {
    const justBefore = pending(checkedRound(sent(), read('p-0'), SENT_AT + 1_999, TIMING));
    // The next check falls on the deadline, not an interval past it.
    expect(justBefore.checkAt).toBe(at(2_000));
    const readings = judged(checkedRound(justBefore, read(), SENT_AT + 2_000, TIMING));
    expect(readings.get('probe-failures')).toEqual({
      kind: 'value',
      value: 1,
      detail: 'not marked done within 2s: p-1',
    });
    expect(readings.get('probe-round-trip-p50')).toMatchObject({ kind: 'value', value: 1.999 });
  });

  it('is a provider error at once when the store cannot be asked', () => {
    const readings = judged(
      checkedRound(sent(), { kind: 'failed', reason: 'connect ECONNREFUSED' }, SENT_AT + 250, TIMING),
    );
    for (const metric of probeMetrics) {
      expect(readings.get(metric.name)).toEqual({
        kind: 'error',
        reason: 'the done mark of probe p-0 could not be read: connect ECONNREFUSED',
      });
    }
  });

  it('is a provider error at once when a probe was not accepted, with nothing left to check', () => {
    const state = sentRound(1, SENT_AT, probes, new Map([['p-1', 'answered 503']]), TIMING);
    expect(state).toEqual({
      kind: 'judged',
      outcomes: [{ deliveryId: 'p-1', route: 'stream', kind: 'unpublished', reason: 'answered 503' }],
    });
    expect(judged(state).get('probe-failures')).toEqual({
      kind: 'error',
      reason: 'probe p-1 (stream) could not be published: answered 503',
    });
  });
});

describe('the analysis of a step whose round waits for probes', () => {
  const clock: RoundClock = { stage: 'staging', step: 0, anchor: SENT_AT - 10_000, intervalMs: 10_000 };
  const due = (now: number) => {
    const round = dueRound(clock, undefined, now);
    if (round === undefined) throw new Error('a round is due');
    return round;
  };
  const allReadings = (state: ProbeRoundState) =>
    new Map([...judged(state), ['redis-missing-consumers', { kind: 'value', value: 0 } as const]]);

  it('keeps the probes in status uncounted, wakes up for the next check, and counts the judged round', () => {
    const waiting = analyse({
      settings,
      clock,
      previous: undefined,
      measured: { due: due(SENT_AT), readings: new Map(), probes: sent() },
    });
    expect(waiting.status).toMatchObject({
      stage: 'staging',
      step: 0,
      round: 0,
      metrics: [],
      probes: sent(),
    });
    expect(waiting.decision.kind).toBe('hold');
    expect(nextRoundAt(clock, waiting.status)).toBe(SENT_AT + 250);
    // A restarted operator finds the same probes in status; another step does not.
    expect(pendingProbes(clock, waiting.status)).toEqual(sent());
    expect(pendingProbes({ ...clock, step: 1 }, waiting.status)).toBeUndefined();

    const counted = analyse({
      settings,
      clock,
      previous: waiting.status,
      measured: {
        due: due(SENT_AT),
        readings: allReadings(checkedRound(sent(), read('p-0', 'p-1'), SENT_AT + 250, TIMING)),
      },
    });
    const status: AnalysisStatus | undefined = counted.status;
    expect(status?.round).toBe(1);
    expect(status?.probes).toBeUndefined();
    expect(status?.metrics.find((m) => m.name === 'probe-failures')).toMatchObject({
      verdict: 'success',
      successes: 1,
    });
    expect(nextRoundAt(clock, status)).toBe(clock.anchor + 2 * clock.intervalMs);

    // The next round's probes leave the counted round's figures as they are.
    const next = analyse({
      settings,
      clock,
      previous: status,
      measured: {
        due: { round: 2, window: { start: SENT_AT, end: SENT_AT + 10_000 } },
        readings: new Map(),
        probes: { ...sent(), round: 2 },
      },
    });
    expect(next.status).toEqual({ ...status, probes: { ...sent(), round: 2 } });
  });
});
