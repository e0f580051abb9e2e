import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { RedisStreamStats } from '../../adapter/index.ts';
import type { AnalysisStatus } from '../api/status-schema.ts';
import { MigrationSeries } from './migration-series.ts';

type StreamLabels = Record<'migration' | 'stream' | 'group', string>;

/** The operator's own metrics, in a registry of its own (no global state). */
export class OperatorMetrics {
  readonly registry = new Registry();
  readonly reconciles = new Counter({
    name: 'queueshift_operator_reconciles_total',
    help: 'Reconciles by result (success, error, terminal).',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  readonly reconcileSeconds = new Histogram({
    name: 'queueshift_operator_reconcile_duration_seconds',
    help: 'Time of one reconcile, observations and actions included.',
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly queueDepth = new Gauge({
    name: 'queueshift_operator_work_queue_depth',
    help: 'Keys waiting to be reconciled.',
    registers: [this.registry],
  });
  readonly watchRestarts = new Counter({
    name: 'queueshift_operator_watch_restarts_total',
    help: 'List-watch restarts by resource (410 Gone, errors).',
    labelNames: ['resource'] as const,
    registers: [this.registry],
  });
  readonly leader = new Gauge({
    name: 'queueshift_operator_leader',
    help: '1 while this replica holds the leader lease.',
    registers: [this.registry],
  });

  readonly streamLength = new Gauge({
    name: 'redis_stream_length',
    help: 'Entries in the stream (XLEN), as the migration’s analysis last read it.',
    labelNames: ['migration', 'stream', 'group'] as const,
    registers: [this.registry],
  });
  readonly streamLag = new Gauge({
    name: 'redis_stream_consumer_lag',
    help: 'Entries never delivered to the group; no sample while the lag is unknown (never 0 for unknown).',
    labelNames: ['migration', 'stream', 'group'] as const,
    registers: [this.registry],
  });
  readonly measurements = new Counter({
    name: 'queueshift_analysis_measurements_total',
    help: 'Measurements judged by the analysis, by metric and verdict (a round re-measured after a failed status write counts again).',
    labelNames: ['migration', 'metric', 'verdict'] as const,
    registers: [this.registry],
  });
  /** Phase, stage and holds of each migration, for the migration alerts and the dashboard. */
  readonly migrations = new MigrationSeries(this.registry);
  /** The labels of each migration's stream series as last set: the ones to remove when they go. */
  private readonly streamLabels = new Map<string, StreamLabels>();

  /**
   * The stream gauges from a stats reading; an unknown lag removes the lag sample. A migration whose
   * stream or group changed loses the series of the old one: nothing measures it for the migration now.
   */
  observeStream(migration: string, stats: RedisStreamStats): void {
    const labels = { migration, stream: stats.stream, group: stats.group };
    const previous = this.streamLabels.get(migration);
    if (previous !== undefined && (previous.stream !== labels.stream || previous.group !== labels.group))
      this.forgetStream(migration);
    this.streamLabels.set(migration, labels);
    this.streamLength.set(labels, stats.length);
    if (stats.lag.known) this.streamLag.set(labels, stats.lag.value);
    else this.streamLag.remove(labels);
  }

  /**
   * Removes the stream series of a migration the operator no longer measures (at rest, or deleted):
   * its stream may live on, but a last value left here would read as a current one.
   */
  forgetStream(migration: string): void {
    const labels = this.streamLabels.get(migration);
    if (labels === undefined) return;
    this.streamLength.remove(labels);
    this.streamLag.remove(labels);
    this.streamLabels.delete(migration);
  }

  /** Removes the stream series of every migration: this replica measures none of them any more. */
  forgetAllStreams(): void {
    for (const migration of [...this.streamLabels.keys()]) this.forgetStream(migration);
  }

  /** Counts the verdicts of a round the analysis just counted (none when it counted no new round). */
  countRound(migration: string, before: AnalysisStatus | undefined, after: AnalysisStatus | undefined): void {
    if (after === undefined) return;
    const sameRound =
      before?.stage === after.stage && before.step === after.step && before.round === after.round;
    if (sameRound) return;
    for (const metric of after.metrics)
      this.measurements.inc({ migration, metric: metric.name, verdict: metric.verdict });
  }

  constructor() {
    for (const result of ['success', 'error', 'terminal']) this.reconciles.inc({ result }, 0);
    for (const resource of ['queuemigrations', 'deployments']) this.watchRestarts.inc({ resource }, 0);
  }
}
