import type { MetricSettings, ProbeMeasure } from '../api/analysis-schema.ts';
import { formatValue } from './measurement-verdict.ts';
import type { ProbeRoute } from './probe-delivery.ts';
import type { Reading } from './reading.ts';

/** What became of one probe of a round. */
export type ProbeOutcome = { deliveryId: string; route: ProbeRoute } & (
  | { kind: 'done'; roundTripMs: number }
  /** Published, but no worker marked it done within the timeout. */
  | { kind: 'timed-out' }
  /** Never reached a queue: the round could not probe. */
  | { kind: 'unpublished'; reason: string }
  /** Published, but the idempotency store could not be asked whether it was done. */
  | { kind: 'unchecked'; reason: string }
);

/** Nearest-rank percentile of values sorted ascending (`share` in (0, 1]). */
export function percentile(sorted: readonly number[], share: number): number | undefined {
  if (sorted.length === 0) return undefined;
  return sorted[Math.min(sorted.length, Math.max(1, Math.ceil(share * sorted.length))) - 1];
}

const PERCENTILES: Record<Exclude<ProbeMeasure, 'failed-probes'>, number> = {
  'round-trip-p50-seconds': 0.5,
  'round-trip-p99-seconds': 0.99,
};

const MAX_LISTED = 3;
const listed = (ids: readonly string[]): string =>
  ids.length <= MAX_LISTED
    ? ids.join(', ')
    : `${ids.slice(0, MAX_LISTED).join(', ')} and ${ids.length - MAX_LISTED} more`;

/**
 * The round's readings. A probe that could not be published or checked is a provider error for
 * every probe metric (the round saw nothing it can judge); one not marked done in time is a failed
 * probe. Round trips are over the probes marked done; when none was, they are no data.
 */
export function probeReading(
  measure: ProbeMeasure,
  outcomes: readonly ProbeOutcome[],
  timeoutMs: number,
): Reading {
  const broken = outcomes.flatMap((o) =>
    o.kind === 'unpublished'
      ? [`probe ${o.deliveryId} (${o.route}) could not be published: ${o.reason}`]
      : o.kind === 'unchecked'
        ? [`the done mark of probe ${o.deliveryId} could not be read: ${o.reason}`]
        : [],
  );
  if (broken[0] !== undefined) return { kind: 'error', reason: broken[0] };
  if (outcomes.length === 0) return { kind: 'error', reason: 'no probe was sent' };
  const late = outcomes.filter((o) => o.kind === 'timed-out').map((o) => o.deliveryId);
  if (measure === 'failed-probes') {
    return {
      kind: 'value',
      value: late.length,
      detail:
        late.length === 0
          ? `${outcomes.length} probe(s) marked done`
          : `not marked done within ${formatValue(timeoutMs / 1_000)}s: ${listed(late)}`,
    };
  }
  const trips = outcomes
    .flatMap((o) => (o.kind === 'done' ? [o.roundTripMs / 1_000] : []))
    .sort((a, b) => a - b);
  const value = percentile(trips, PERCENTILES[measure]);
  if (value === undefined) {
    return {
      kind: 'no-data',
      reason: `no probe was marked done within ${formatValue(timeoutMs / 1_000)}s`,
    };
  }
  return { kind: 'value', value, detail: `over ${trips.length} probe(s) marked done` };
}

/** One reading per probe metric; a metric without a probe figure is not the prober's. */
export function probeReadings(
  metrics: readonly MetricSettings[],
  outcomes: readonly ProbeOutcome[],
  timeoutMs: number,
): Map<string, Reading> {
  return new Map(
    metrics.map((metric): [string, Reading] => [
      metric.name,
      metric.probe === undefined
        ? { kind: 'error', reason: 'not a probe figure' }
        : probeReading(metric.probe, outcomes, timeoutMs),
    ]),
  );
}
