import type { Clock } from '../../../adapter/index.ts';
import type { MetricSettings } from '../../api/analysis-schema.ts';
import type { Reading } from '../reading.ts';
import { describeError, withinBudget, type MeasureContext, type MetricProvider } from './metric-provider.ts';

export interface PrometheusProviderOptions {
  /** Base URL of the Prometheus HTTP API. */
  url: string;
  clock: Clock;
  /** A query that has not answered in this time is a provider error. */
  timeoutMs: number;
}

interface QueryAnswer {
  status?: string;
  error?: string;
  data?: { resultType?: string; result?: unknown };
}

/** Prometheus sends sample values as strings ("0.25", "NaN", "+Inf"). */
function sampleValue(sample: unknown): number | undefined {
  const pair = (sample as { value?: unknown } | undefined)?.value;
  return Array.isArray(pair) && typeof pair[1] === 'string' ? Number(pair[1]) : undefined;
}

/** One sample from an instant query's answer: none is no data, several is a query to fix. */
export function readingOf(answer: QueryAnswer): Reading {
  if (answer.status !== 'success')
    return { kind: 'error', reason: `Prometheus refused the query: ${answer.error ?? 'no reason given'}` };
  const { resultType, result } = answer.data ?? {};
  if (resultType === 'scalar') {
    const value = sampleValue({ value: result });
    return value === undefined ? { kind: 'error', reason: 'unreadable scalar' } : { kind: 'value', value };
  }
  if (resultType !== 'vector' || !Array.isArray(result)) {
    return {
      kind: 'error',
      reason: `the query must return an instant vector or scalar, not ${resultType ?? 'nothing'}`,
    };
  }
  if (result.length === 0) return { kind: 'no-data', reason: 'the query returned no sample' };
  if (result.length > 1)
    return { kind: 'error', reason: `the query returned ${result.length} samples; it must return one` };
  const value = sampleValue(result[0]);
  return value === undefined ? { kind: 'error', reason: 'unreadable sample' } : { kind: 'value', value };
}

/**
 * PromQL instant queries, evaluated at the end of the round's window: the same round asked again
 * (after a restart) asks Prometheus about the same moment.
 */
export class PrometheusProvider implements MetricProvider {
  readonly name = 'prometheus';
  private readonly options: PrometheusProviderOptions;

  constructor(options: PrometheusProviderOptions) {
    this.options = options;
  }

  handles(metric: MetricSettings): boolean {
    return metric.query !== undefined;
  }

  async measure(metrics: readonly MetricSettings[], context: MeasureContext): Promise<Map<string, Reading>> {
    const readings = await Promise.all(
      metrics.map(
        async (metric) => [metric.name, await this.query(metric.query ?? '', context.window.end)] as const,
      ),
    );
    return new Map(readings);
  }

  private async query(query: string, at: number): Promise<Reading> {
    const url = new URL(
      'api/v1/query',
      this.options.url.endsWith('/') ? this.options.url : `${this.options.url}/`,
    );
    url.searchParams.set('query', query);
    url.searchParams.set('time', (at / 1_000).toFixed(3));
    const controller = new AbortController();
    const ask = async (): Promise<Reading> => {
      try {
        const response = await fetch(url, { signal: controller.signal });
        const text = await response.text();
        let answer: QueryAnswer;
        try {
          answer = JSON.parse(text) as QueryAnswer;
        } catch {
          return {
            kind: 'error',
            reason: `Prometheus ${this.options.url} answered ${response.status}: ${text.slice(0, 200)}`,
          };
        }
        return readingOf(answer);
      } catch (error) {
        return {
          kind: 'error',
          reason: `Prometheus ${this.options.url} unreachable: ${describeError(error)}`,
        };
      }
    };
    return withinBudget(ask(), this.options.timeoutMs, this.options.clock, () => {
      controller.abort();
      return {
        kind: 'error',
        reason: `Prometheus ${this.options.url} did not answer within ${this.options.timeoutMs} ms`,
      };
    });
  }
}
