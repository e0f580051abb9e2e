import type { Clock, IdempotencyConfig, Known } from '../../adapter/index.ts';
import { durationMs } from '../api/durations.ts';
import type { QueueMigrationSpec } from '../api/spec-schema.ts';
import type { QueueMigrationStatus } from '../api/status-schema.ts';
import type { RoundReadings } from '../analysis/analysis-engine.ts';
import { dueRound, pendingProbes, roundAt } from '../analysis/analysis-round.ts';
import { metricsForStage } from '../analysis/metric-catalog.ts';
import { describeError, measureRound, type MetricProvider } from '../analysis/providers/metric-provider.ts';
import { probesPerRound } from '../analysis/probe-delivery.ts';
import type { ProbeKubeReads } from '../analysis/probe-kube-reads.ts';
import { probeReadings } from '../analysis/probe-readings.ts';
import { probeTiming } from '../analysis/probe-round.ts';
import { probeStoreSettings, type SecretLookup } from '../analysis/probe-store-settings.ts';
import { ProbeProvider } from '../analysis/providers/probe-provider.ts';
import { PrometheusProvider } from '../analysis/providers/prometheus-provider.ts';
import { RedisProvider } from '../analysis/providers/redis-provider.ts';
import { UnavailableProvider } from '../analysis/providers/unavailable-provider.ts';
import type { Reading } from '../analysis/reading.ts';
import { roundClockOf } from '../stages/analysis-step.ts';
import type { EnvEntry } from '../stages/observations.ts';
import type { OperatorMetrics } from './operator-metrics.ts';
import type { QueueFigures } from './queue-figures.ts';

export interface AnalysisMeasurerOptions {
  figures: QueueFigures;
  metrics: OperatorMetrics;
  clock: Clock;
  /** Budget of one provider's answer; a provider that takes longer is a provider error. */
  timeoutMs: number;
  /**
   * The probes' reads of Secrets (the webhook secret, a store password) and of the consumers' own
   * store settings (IDEMPOTENCY_KEY_PREFIX, IDEMPOTENCY_RETENTION). Without them, probes look under
   * the default key prefix, and those that need a Secret read as no data, with the reason.
   */
  probeReads?: ProbeKubeReads;
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
 *
 * A round with probe metrics takes several passes, none of which waits for a worker: the first
 * sends the probes and hands them back to be kept in status; later ones check them once each;
 * the pass that judges them measures the other metrics too, and the round is counted.
 */
export class AnalysisMeasurer {
  private readonly options: AnalysisMeasurerOptions;

  constructor(options: AnalysisMeasurerOptions) {
    this.options = options;
  }

  async measureDue(target: MeasureTarget, now: number): Promise<RoundReadings | undefined> {
    const { spec, status } = target;
    const clock = roundClockOf(spec, status);
    // A dry run keeps no rounds in status, and its probes would write to the stream: it measures nothing.
    if (clock === undefined || status.phase !== 'Progressing' || spec.dryRun) return undefined;
    const sent = pendingProbes(clock, status.analysis);
    // Probes already out belong to their round: it is judged before any later one is measured.
    const due = sent === undefined ? dueRound(clock, status.analysis, now) : roundAt(clock, sent.round);
    const metrics = metricsForStage(spec.analysis, clock.stage);
    if (due === undefined || metrics.length === 0) return undefined;
    const providers = this.providers(target);
    const probed = metrics.filter((m) => m.probe !== undefined);
    let judged = new Map<string, Reading>();
    if (probed.length > 0) {
      const prober = await this.probeProvider(target);
      if (!prober.known) {
        providers.push(
          new UnavailableProvider(
            'probes',
            (metric) => metric.probe !== undefined,
            `probes cannot see done marks: ${prober.reason}`,
          ),
        );
      } else {
        const round =
          sent === undefined ? await prober.value.send(due.round) : await prober.value.check(sent);
        if (round.kind === 'pending') return { due, readings: new Map(), probes: round.status };
        judged = probeReadings(probed, round.outcomes, durationMs(spec.analysis.probes.timeout));
      }
    }
    const unjudged = metrics.filter((m) => !judged.has(m.name));
    const readyConsumers = unjudged.some((m) => m.redis === 'missing-consumers')
      ? await target.readyConsumers()
      : [];
    const readings = await measureRound(providers, unjudged, { window: due.window, readyConsumers });
    for (const [name, reading] of judged) readings.set(name, reading);
    return { due, readings };
  }

  private providers({ key, spec, status }: MeasureTarget): MetricProvider[] {
    const prometheus = spec.analysis.prometheus;
    const { clock, timeoutMs } = this.options;
    return [
      this.redisProvider(key, spec, status.sweep?.movedFromDeadLetterQueue ?? 0),
      ...(prometheus === undefined
        ? []
        : [new PrometheusProvider({ url: prometheus.url, clock, timeoutMs })]),
    ];
  }

  /** The store the consumers mark deliveries done in: recorded settings, plus their own key prefix. */
  private async probeStore(
    { spec, status }: MeasureTarget,
    namespace: string,
    lookup: SecretLookup,
  ): Promise<Known<IdempotencyConfig>> {
    const { probeReads } = this.options;
    const consumer = spec.consumers[0];
    let liveEnv: readonly EnvEntry[] = [];
    if (probeReads !== undefined && consumer !== undefined) {
      try {
        liveEnv = await probeReads.consumerEnv(namespace, consumer);
      } catch (error) {
        return { known: false, reason: `Deployment ${consumer.name}: ${describeError(error)}` };
      }
    }
    return probeStoreSettings(spec, status.originals ?? [], lookup, liveEnv);
  }

  /** Probes publish through the stream back end and look for done marks where the consumers write them. */
  private async probeProvider(target: MeasureTarget): Promise<Known<ProbeProvider>> {
    const { key, spec } = target;
    const { figures, clock, probeReads, timeoutMs } = this.options;
    const namespace = key.split('/')[0] ?? '';
    const lookup: SecretLookup = (ref) =>
      probeReads === undefined
        ? Promise.reject(new Error(`Secret ${ref.name}: the operator was started without access to Secrets`))
        : probeReads.readSecret(namespace, ref);
    const store = await this.probeStore(target, namespace, lookup);
    if (!store.known) return store;
    const { probes, interval } = spec.analysis;
    const secretRef = probes.webhookSecretRef;
    const provider = new ProbeProvider({
      migration: key,
      publish: async (message) => figures.redisBackend(key, spec).publish(message),
      markedDoneAt: async (deliveryId) => figures.idempotencyStore(key, store.value).markedDoneAt(deliveryId),
      ...(probes.producerUrl !== undefined &&
        secretRef !== undefined && { http: { url: probes.producerUrl, secret: () => lookup(secretRef) } }),
      count: probesPerRound(durationMs(interval), durationMs(probes.interval)),
      ...probeTiming(spec.analysis),
      answerMs: timeoutMs,
      clock,
    });
    return { known: true, value: provider };
  }

  private redisProvider(key: string, spec: QueueMigrationSpec, importedDeadLetters: number): MetricProvider {
    const { figures, metrics, clock, timeoutMs } = this.options;
    // A Secret that could not be read makes every Redis metric "no data", with the reason.
    const unavailable = figures.redisUnavailable(key, spec);
    if (unavailable !== undefined) {
      return new UnavailableProvider('redis', (metric) => metric.redis !== undefined, unavailable);
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
      importedDeadLetters,
    });
  }
}
