import type { AnalysisSettings, MetricSettings, ProbeMeasure, RedisMeasure } from '../api/analysis-schema.ts';
import type { StageName } from '../api/stages-schema.ts';

/** Stages where producers publish to Redis: only there does the absence of data mean something. */
const WITH_TRAFFIC: StageName[] = ['canary', 'full', 'cleanup'];

const builtIn = (
  name: string,
  redis: RedisMeasure,
  operator: '<=' | '>=',
  value: number,
  stages: StageName[] = WITH_TRAFFIC,
): MetricSettings => ({ name, redis, threshold: { operator, value }, stages });

/**
 * Probes gate the rehearsal: staging is where the stream has no producer traffic yet, so a ping
 * through it is the only evidence that a worker can take a delivery from Redis to its done mark.
 */
const probeMetric = (name: string, probe: ProbeMeasure, value: number): MetricSettings => ({
  name,
  probe,
  threshold: { operator: '<=', value },
  stages: ['staging'],
});

/**
 * The built-in Redis metrics and their default thresholds. Missing consumers applies before any
 * producer switches (dual to canary): consumers read with BLOCK, so it has data without traffic.
 */
export const DEFAULT_METRICS: readonly MetricSettings[] = [
  builtIn('redis-backlog', 'backlog', '<=', 10_000),
  builtIn('redis-oldest-pending-age', 'oldest-pending-age-seconds', '<=', 300),
  builtIn('redis-oldest-undelivered-age', 'oldest-undelivered-age-seconds', '<=', 120),
  builtIn('redis-dead-letter-growth', 'dead-letter-growth', '<=', 0),
  builtIn('redis-lost-to-trimming', 'lost-to-trimming', '<=', 0),
  builtIn('redis-memory-headroom', 'memory-headroom-percent', '>=', 20),
  builtIn('redis-missing-consumers', 'missing-consumers', '<=', 0, ['dual', 'staging', 'canary']),
  probeMetric('probe-failures', 'failed-probes', 0),
  probeMetric('probe-round-trip-p50', 'round-trip-p50-seconds', 1),
  probeMetric('probe-round-trip-p99', 'round-trip-p99-seconds', 5),
];

/** The metrics of the spec (and the defaults it does not replace by name) that apply to `stage`. */
export function metricsForStage(settings: AnalysisSettings, stage: StageName): MetricSettings[] {
  const own = new Set(settings.metrics.map((m) => m.name));
  const defaults = settings.defaultMetrics ? DEFAULT_METRICS.filter((m) => !own.has(m.name)) : [];
  return [...defaults, ...settings.metrics].filter((m) => m.stages.includes(stage));
}
