import type { Clock } from '../../adapter/index.ts';
import type { QueueMigrationSpec } from '../api/spec-schema.ts';
import type { QueueMigrationStatus } from '../api/status-schema.ts';
import type { RoundReadings } from '../analysis/analysis-engine.ts';
import { dueRound } from '../analysis/analysis-round.ts';
import { metricsForStage } from '../analysis/metric-catalog.ts';
import { measureRound, type MetricProvider } from '../analysis/providers/metric-provider.ts';
import { PrometheusProvider } from '../analysis/providers/prometheus-provider.ts';
import { RedisProvider } from '../analysis/providers/redis-provider.ts';
import { UnavailableProvider } from '../analysis/providers/unavailable-provider.ts';
import { roundClockOf } from '../stages/analysis-step.ts';
import type { OperatorMetrics } from './operator-metrics.ts';
import type { QueueFigures } from './queue-figures.ts';

export interface AnalysisMeasurerOptions {
  figures: QueueFigures;
  metrics: OperatorMetrics;
  clock: Clock;
  /** Budget of one provider's answer; a provider that takes longer is a provider error. */
  timeoutMs: number;
}

/** Where the round's readings come from, for one migration. */
export interface MeasureTarget {
  key: string;
  spec: QueueMigrationSpec;
  status: QueueMigrationStatus;
  /** Asked only when a round is due and a metric needs them. */
  readyConsumers: () => Promise<string[]>;
}

/**
 * Measures the analysis round that is due, if one is: the window comes from status (so the
 * stage machine counts exactly the round that was measured), the providers from the spec.
 */
export class AnalysisMeasurer {
  private readonly options: AnalysisMeasurerOptions;

  constructor(options: AnalysisMeasurerOptions) {
    this.options = options;
  }

  async measureDue(target: MeasureTarget, now: number): Promise<RoundReadings | undefined> {
    const { spec, status } = target;
    const clock = roundClockOf(spec, status);
    if (clock === undefined || status.phase !== 'Progressing') return undefined;
    const due = dueRound(clock, status.analysis, now);
    const metrics = metricsForStage(spec.analysis, clock.stage);
    if (due === undefined || metrics.length === 0) return undefined;
    const readyConsumers = metrics.some((m) => m.redis === 'missing-consumers')
      ? await target.readyConsumers()
      : [];
    const readings = await measureRound(this.providers(target), metrics, {
      window: due.window,
      readyConsumers,
    });
    return { due, readings };
  }

  private providers({ key, spec }: MeasureTarget): MetricProvider[] {
    const prometheus = spec.analysis.prometheus;
    const { clock, timeoutMs } = this.options;
    return [
      this.redisProvider(key, spec),
      ...(prometheus === undefined
        ? []
        : [new PrometheusProvider({ url: prometheus.url, clock, timeoutMs })]),
    ];
  }

  private redisProvider(key: string, spec: QueueMigrationSpec): MetricProvider {
    const { figures, metrics, clock, timeoutMs } = this.options;
    if (spec.redis.passwordSecretRef !== undefined || spec.redis.tls !== undefined) {
      return new UnavailableProvider(
        'redis',
        (metric) => metric.redis !== undefined,
        'the Redis credentials are in Secrets, which the operator does not read yet ' +
          '(set analysis.defaultMetrics to false, or gate on PromQL metrics)',
      );
    }
    return new RedisProvider({
      stats: async () => {
        const stats = await figures.redisStats(key, spec);
        metrics.observeStream(key, stats);
        return stats;
      },
      client: () => figures.redisClient(key, spec),
      stream: spec.redis.stream,
      group: spec.redis.group,
      clock,
      timeoutMs,
    });
  }
}
