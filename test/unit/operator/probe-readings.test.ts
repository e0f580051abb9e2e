import { describe, expect, it } from 'vitest';
import { analysisSettings } from '../../../src/operator/api/analysis-schema.ts';
import { analyse } from '../../../src/operator/analysis/analysis-engine.ts';
import { dueRound, type RoundClock } from '../../../src/operator/analysis/analysis-round.ts';
import { metricsForStage } from '../../../src/operator/analysis/metric-catalog.ts';
import {
  MAX_PROBES_PER_ROUND,
  probeDeliveryId,
  probeMessage,
  probeOf,
  probesPerRound,
} from '../../../src/operator/analysis/probe-delivery.ts';
import {
  percentile,
  probeReadings,
  type ProbeOutcome,
} from '../../../src/operator/analysis/probe-readings.ts';
import { decodeEnvelope } from '../../../src/webhook/envelope.ts';

const TIMEOUT_MS = 5_000;
const done = (n: number, roundTripMs: number): ProbeOutcome => ({
  deliveryId: `p-${n}`,
  route: 'stream',
  kind: 'done',
  roundTripMs,
});
const late = (n: number): ProbeOutcome => ({ deliveryId: `p-${n}`, route: 'stream', kind: 'timed-out' });

const defaults = analysisSettings.parse({ interval: '10s' });
const probeMetrics = metricsForStage(defaults, 'staging').filter((m) => m.probe !== undefined);

describe('a round of probes', () => {
  it('is the default gate of staging only: failures, p50 and p99 of the round trip', () => {
    expect(probeMetrics.map((m) => [m.name, m.probe, m.threshold])).toEqual([
      ['probe-failures', 'failed-probes', { operator: '<=', value: 0 }],
      ['probe-round-trip-p50', 'round-trip-p50-seconds', { operator: '<=', value: 1 }],
      ['probe-round-trip-p99', 'round-trip-p99-seconds', { operator: '<=', value: 5 }],
    ]);
    for (const stage of ['dual', 'canary', 'full', 'cleanup'] as const) {
      expect(metricsForStage(defaults, stage).filter((m) => m.probe !== undefined)).toEqual([]);
    }
  });

  it('reads the percentiles of the probes marked done, in seconds', () => {
    const outcomes = [done(1, 40), done(2, 10), done(3, 30), done(4, 20), done(5, 900)];
    const readings = probeReadings(probeMetrics, outcomes, TIMEOUT_MS);
    expect(readings.get('probe-failures')).toMatchObject({ kind: 'value', value: 0 });
    expect(readings.get('probe-round-trip-p50')).toMatchObject({ kind: 'value', value: 0.03 });
    expect(readings.get('probe-round-trip-p99')).toMatchObject({ kind: 'value', value: 0.9 });
  });

  it('counts a probe no worker marked done in time as failed, naming it', () => {
    const readings = probeReadings(probeMetrics, [done(1, 15), late(2)], TIMEOUT_MS);
    expect(readings.get('probe-failures')).toEqual({
      kind: 'value',
      value: 1,
      detail: 'not marked done within 5s: p-2',
    });
    expect(readings.get('probe-round-trip-p99')).toMatchObject({ kind: 'value', value: 0.015 });
  });

  it('has no round trip to judge when no probe was marked done', () => {
    const readings = probeReadings(probeMetrics, [late(1), late(2)], TIMEOUT_MS);
    expect(readings.get('probe-failures')).toMatchObject({ kind: 'value', value: 2 });
    expect(readings.get('probe-round-trip-p50')).toEqual({
      kind: 'no-data',
      reason: 'no probe was marked done within 5s',
    });
  });

  it.each<[string, ProbeOutcome, string]>([
    [
      'could not be published',
      { deliveryId: 'p-2', route: 'http', kind: 'unpublished', reason: 'ECONNREFUSED' },
      'probe p-2 (http) could not be published: ECONNREFUSED',
    ],
    [
      'could not be checked',
      { deliveryId: 'p-2', route: 'stream', kind: 'unchecked', reason: 'ECONNREFUSED' },
      'the done mark of probe p-2 could not be read: ECONNREFUSED',
    ],
  ])('is a provider error for every probe metric when a probe %s', (_what, broken, reason) => {
    const readings = probeReadings(probeMetrics, [done(1, 10), broken], TIMEOUT_MS);
    for (const metric of probeMetrics) expect(readings.get(metric.name)).toEqual({ kind: 'error', reason });
  });

  it('rolls staging back on a failed probe, and pauses it when probes cannot be sent', () => {
    const clock: RoundClock = { stage: 'staging', step: 0, anchor: 0, intervalMs: 10_000 };
    const due = dueRound(clock, undefined, 10_000);
    if (due === undefined) throw new Error('round 1 is due');
    const decide = (outcomes: ProbeOutcome[], limits: Record<string, unknown> = {}) =>
      analyse({
        settings: analysisSettings.parse({ interval: '10s', ...limits }),
        clock,
        previous: undefined,
        measured: {
          due,
          // Every consumer is active in the group: only the probes decide.
          readings: new Map([
            ...probeReadings(probeMetrics, outcomes, TIMEOUT_MS),
            ['redis-missing-consumers', { kind: 'value', value: 0 }],
          ]),
        },
      }).decision;
    expect(decide([done(1, 12)])).toEqual({ kind: 'advance' });
    expect(decide([late(1)])).toMatchObject({
      kind: 'rollback',
      reason: expect.stringContaining('metric probe-failures failed: value 1, threshold <= 0') as unknown,
    });
    const unpublished: ProbeOutcome = {
      deliveryId: 'p-1',
      route: 'stream',
      kind: 'unpublished',
      reason: 'down',
    };
    expect(decide([unpublished], { consecutiveErrorLimit: 0 })).toMatchObject({ kind: 'rollback' });
    expect(decide([unpublished], { consecutiveErrorLimit: 1 })).toMatchObject({ kind: 'hold' });
  });
});

describe('percentile', () => {
  it.each([
    [[], 0.5, undefined],
    [[7], 0.99, 7],
    [[1, 2, 3, 4], 0.5, 2],
    [[1, 2, 3, 4], 0.99, 4],
    [Array.from({ length: 200 }, (_, i) => i + 1), 0.99, 198],
  ])('of %j at %d is %s (nearest rank)', (sorted, share, expected) => {
    expect(percentile(sorted, share)).toBe(expected);
  });
});

describe('probe deliveries', () => {
  it('send the analysis interval’s share of probes, at least one and at most the cap', () => {
    expect(probesPerRound(30_000, 30_000)).toBe(1);
    expect(probesPerRound(10_000, 2_000)).toBe(5);
    expect(probesPerRound(1_000, 30_000)).toBe(1);
    expect(probesPerRound(600_000, 1_000)).toBe(MAX_PROBES_PER_ROUND);
  });

  it('carry ids of their own, new on every attempt at a round', () => {
    const first = probeDeliveryId('team/webhooks', 3, 0, 'a1b2c3d4');
    expect(first).toBe('queueshift-probe-team.webhooks-3-0-a1b2c3d4');
    expect(probeDeliveryId('team/webhooks', 3, 0, 'e5f6a7b8')).not.toBe(first);
  });

  it('are published in the envelope the webhook publishes, as ping events', () => {
    const probe = probeOf('team/webhooks', 'queueshift-probe-team.webhooks-1-0-x', 'stream');
    const message = probeMessage(probe, Date.parse('2026-11-26T10:00:00.000Z'));
    expect(message.deliveryId).toBe(probe.deliveryId);
    expect(message.attributes).toEqual({ event: 'ping' });
    expect(decodeEnvelope(message.body)).toEqual({
      ok: true,
      envelope: {
        deliveryId: probe.deliveryId,
        event: 'ping',
        receivedAt: '2026-11-26T10:00:00.000Z',
        payload: { zen: 'queueshift probe', migration: 'team/webhooks' },
      },
    });
  });
});
