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
  nextCheckAt,
  sentRound,
  type DoneMarks,
  type ProbeRoundState,
} from '../../../src/operator/analysis/probe-round.ts';

const TIMING = { timeoutMs: 2_000, checkEveryMs: 250 };
const SENT_AT = Date.parse('2026-11-26T10:00:10.000Z');
const at = (offsetMs: number): string => new Date(SENT_AT + offsetMs).toISOString();
const probes = ['p-0', 'p-1'].map((id) => probeOf('team/webhooks', id, 'stream'));
/** A read of the store: each probe found done, with the time its mark is dated (ms after sending). */
const read = (done: Record<string, number> = {}): DoneMarks => ({
  kind: 'read',
  doneAt: new Map(Object.entries(done).map(([id, offsetMs]) => [id, SENT_AT + offsetMs])),
});
const DAY_MS = 24 * 3_600_000;

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
const sent = (): ProbeRoundStatus => pending(sentRound(1, SENT_AT, probes, new Map()));

describe('a probe round over several passes', () => {
  it('is pending once sent, records its ids and send time, and is first checked one interval on', () => {
    expect(sent()).toEqual({
      round: 1,
      sentAt: at(0),
      probes: [
        { deliveryId: 'p-0', route: 'stream' },
        { deliveryId: 'p-1', route: 'stream' },
      ],
    });
    expect(nextCheckAt(sent(), SENT_AT, TIMING)).toBe(SENT_AT + 250);
  });

  it('stays pending while a probe is unmarked, then succeeds with the round trip its done mark is dated with', () => {
    const first = pending(checkedRound(sent(), read({ 'p-1': 87 }), SENT_AT + 250, TIMING));
    expect(first.probes).toEqual([
      { deliveryId: 'p-0', route: 'stream' },
      { deliveryId: 'p-1', route: 'stream', roundTripMs: 87 },
    ]);
    expect(nextCheckAt(first, SENT_AT + 250, TIMING)).toBe(SENT_AT + 500);
    // A check that finds nothing new hands back the round exactly as status holds it: no write.
    const second = pending(checkedRound(first, read(), SENT_AT + 500, TIMING));
    expect(second).toEqual(first);
    // A later read that no longer sees p-1 (it is not asked again) keeps its round trip.
    const readings = judged(checkedRound(second, read({ 'p-0': 612 }), SENT_AT + 750, TIMING));
    expect(readings.get('probe-failures')).toMatchObject({ kind: 'value', value: 0 });
    expect(readings.get('probe-round-trip-p50')).toMatchObject({ kind: 'value', value: 0.087 });
    expect(readings.get('probe-round-trip-p99')).toMatchObject({ kind: 'value', value: 0.612 });
  });

  it('fails only at the timeout, naming the probes no worker marked done', () => {
    const justBefore = pending(checkedRound(sent(), read({ 'p-0': 1_500 }), SENT_AT + 1_999, TIMING));
    // The next check falls on the deadline, not an interval past it.
    expect(nextCheckAt(justBefore, SENT_AT + 1_999, TIMING)).toBe(SENT_AT + 2_000);
    const readings = judged(checkedRound(justBefore, read(), SENT_AT + 2_000, TIMING));
    expect(readings.get('probe-failures')).toEqual({
      kind: 'value',
      value: 1,
      detail: 'not marked done within 2s: p-1',
    });
    expect(readings.get('probe-round-trip-p50')).toMatchObject({ kind: 'value', value: 1.5 });
  });

  it('counts a probe marked after the deadline as timed out, even when a late check finds it', () => {
    const readings = judged(
      checkedRound(sent(), read({ 'p-0': 400, 'p-1': 2_050 }), SENT_AT + 2_100, TIMING),
    );
    expect(readings.get('probe-failures')).toMatchObject({
      kind: 'value',
      value: 1,
      detail: 'not marked done within 2s: p-1',
    });
  });

  it('falls back to the time of the check when a mark is dated outside the round (another retention)', () => {
    // Marks written under a retention 6 days shorter, then 9 days longer, than the one assumed.
    const first = pending(checkedRound(sent(), read({ 'p-0': -6 * DAY_MS }), SENT_AT + 500, TIMING));
    expect(first.probes.map((p) => p.roundTripMs)).toEqual([500, undefined]);
    const readings = judged(checkedRound(first, read({ 'p-1': 9 * DAY_MS }), SENT_AT + 700, TIMING));
    expect(readings.get('probe-round-trip-p50')).toMatchObject({ kind: 'value', value: 0.5 });
    expect(readings.get('probe-round-trip-p99')).toMatchObject({ kind: 'value', value: 0.7 });
  });

  it('is checked a check interval on when a pass comes after the deadline without checking', () => {
    expect(nextCheckAt(sent(), SENT_AT + 2_300, TIMING)).toBe(SENT_AT + 2_550);
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
    const state = sentRound(1, SENT_AT, probes, new Map([['p-1', 'answered 503']]));
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
    expect(nextRoundAt(clock, waiting.status, SENT_AT, TIMING)).toBe(SENT_AT + 250);
    expect(nextRoundAt(clock, waiting.status, SENT_AT + 1_900, TIMING)).toBe(SENT_AT + 2_000);
    // A restarted operator finds the same probes in status; another step does not.
    expect(pendingProbes(clock, waiting.status)).toEqual(sent());
    expect(pendingProbes({ ...clock, step: 1 }, waiting.status)).toBeUndefined();

    const counted = analyse({
      settings,
      clock,
      previous: waiting.status,
      measured: {
        due: due(SENT_AT),
        readings: allReadings(checkedRound(sent(), read({ 'p-0': 120, 'p-1': 130 }), SENT_AT + 250, TIMING)),
      },
    });
    const status: AnalysisStatus | undefined = counted.status;
    expect(status?.round).toBe(1);
    expect(status?.probes).toBeUndefined();
    expect(status?.metrics.find((m) => m.name === 'probe-failures')).toMatchObject({
      verdict: 'success',
      successes: 1,
    });
    expect(nextRoundAt(clock, status, SENT_AT + 250, TIMING)).toBe(clock.anchor + 2 * clock.intervalMs);

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
