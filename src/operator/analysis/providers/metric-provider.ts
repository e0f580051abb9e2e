import type { Clock } from '../../../adapter/index.ts';
import type { MetricSettings } from '../../api/analysis-schema.ts';
import type { AnalysisWindow, Reading } from '../reading.ts';

/** What a round of measurements may look at besides the metrics themselves. */
export interface MeasureContext {
  window: AnalysisWindow;
  /** Names of the consumer pods that are Ready: each must show up as an active group consumer. */
  readyConsumers: readonly string[];
}

/**
 * A source of readings. `measure` answers one reading per metric it was given and never rejects:
 * a provider that cannot ask answers `error`, one that asked and found nothing answers `no-data`.
 */
export interface MetricProvider {
  readonly name: string;
  handles(metric: MetricSettings): boolean;
  measure(metrics: readonly MetricSettings[], context: MeasureContext): Promise<Map<string, Reading>>;
}

/** An error's message with its cause's (fetch says only "fetch failed"; the cause says why). */
export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  return error.cause instanceof Error ? `${error.message}: ${error.cause.message}` : error.message;
}

/** Settles with `work`, or with `late()` once `ms` passed: a provider that hangs is a provider error. */
export async function withinBudget<T>(work: Promise<T>, ms: number, clock: Clock, late: () => T): Promise<T> {
  let timer: { cancel(): void } | undefined;
  const timeout = new Promise<T>((resolve) => {
    timer = clock.schedule(ms, () => {
      resolve(late());
    });
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    timer?.cancel();
  }
}

/**
 * One reading per metric, each from the one provider that handles it. A metric no provider
 * handles reads as an error naming it: there is no default provider to fall back to.
 */
export async function measureRound(
  providers: readonly MetricProvider[],
  metrics: readonly MetricSettings[],
  context: MeasureContext,
): Promise<Map<string, Reading>> {
  const readings = new Map<string, Reading>();
  const byProvider = new Map<MetricProvider, MetricSettings[]>();
  for (const metric of metrics) {
    const provider = providers.find((p) => p.handles(metric));
    if (provider === undefined) {
      readings.set(metric.name, { kind: 'error', reason: `no provider measures metric ${metric.name}` });
      continue;
    }
    byProvider.set(provider, [...(byProvider.get(provider) ?? []), metric]);
  }
  const answers = await Promise.all(
    [...byProvider].map(([provider, handled]) => provider.measure(handled, context)),
  );
  for (const answer of answers) for (const [name, reading] of answer) readings.set(name, reading);
  return readings;
}
