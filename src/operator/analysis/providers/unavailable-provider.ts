import type { MetricSettings } from '../../api/analysis-schema.ts';
import type { Reading } from '../reading.ts';
import type { MeasureContext, MetricProvider } from './metric-provider.ts';

/**
 * Stands in for a provider the operator cannot build for this spec: its metrics read as no data
 * with the reason, so the step holds and then pauses with that reason (never a silent pass, and
 * not a rollback of a healthy migration over a gap of the operator's own).
 */
export class UnavailableProvider implements MetricProvider {
  readonly name: string;
  private readonly reason: string;
  private readonly handled: (metric: MetricSettings) => boolean;

  constructor(name: string, handles: (metric: MetricSettings) => boolean, reason: string) {
    this.name = name;
    this.handled = handles;
    this.reason = reason;
  }

  handles(metric: MetricSettings): boolean {
    return this.handled(metric);
  }

  measure(metrics: readonly MetricSettings[], _context: MeasureContext): Promise<Map<string, Reading>> {
    return Promise.resolve(new Map(metrics.map((m) => [m.name, { kind: 'no-data', reason: this.reason }])));
  }
}
