import type { MetricSettings } from '../api/analysis-schema.ts';
import type { VerdictKind } from './verdict.ts';
import type { Reading } from './reading.ts';

export interface Judgement {
  verdict: VerdictKind;
  value?: string;
  threshold: string;
  message: string;
  /** The reading of a cumulative figure, kept as the next round's baseline. */
  raw?: number;
  /** The first reading of a cumulative figure: no growth to judge yet, and no missing data either. */
  baseline?: true;
  /** Nothing to measure yet (a `not-yet` reading): holds the step without counting as missing data. */
  waiting?: true;
}

const PASSES: Record<MetricSettings['threshold']['operator'], (value: number, limit: number) => boolean> = {
  '<': (value, limit) => value < limit,
  '<=': (value, limit) => value <= limit,
  '>': (value, limit) => value > limit,
  '>=': (value, limit) => value >= limit,
};

/** Dead letters are counted from the start; the metric is how many arrived during the round. */
const isCumulative = (metric: MetricSettings): boolean => metric.redis === 'dead-letter-growth';

export const formatValue = (value: number): string =>
  Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(4)));

/**
 * One reading against its metric's threshold. No data is inconclusive and never success; a value
 * that is not a finite number (PromQL's NaN from 0/0) is no data too.
 */
export function judge(metric: MetricSettings, reading: Reading, previousRaw: number | undefined): Judgement {
  const threshold = `${metric.threshold.operator} ${formatValue(metric.threshold.value)}`;
  const name = `metric ${metric.name}`;
  if (reading.kind === 'error') {
    return { verdict: 'error', threshold, message: `${name}: provider error: ${reading.reason}` };
  }
  if (reading.kind === 'not-yet') {
    return {
      verdict: 'inconclusive',
      threshold,
      waiting: true,
      message: `${name}: not yet: ${reading.reason}`,
    };
  }
  if (reading.kind === 'no-data') {
    return { verdict: 'inconclusive', threshold, message: `${name}: no data: ${reading.reason}` };
  }
  if (!Number.isFinite(reading.value)) {
    return { verdict: 'inconclusive', threshold, message: `${name}: no data: the value is ${reading.value}` };
  }
  let value = reading.value;
  const raw = isCumulative(metric) ? reading.value : undefined;
  if (raw !== undefined) {
    if (previousRaw === undefined) {
      return {
        verdict: 'inconclusive',
        threshold,
        raw,
        baseline: true,
        message: `${name}: baseline ${formatValue(raw)} recorded; growth is measured from the next round`,
      };
    }
    value = raw - previousRaw;
  }
  const passed = PASSES[metric.threshold.operator](value, metric.threshold.value);
  const detail = reading.detail === undefined ? '' : ` (${reading.detail})`;
  return {
    verdict: passed ? 'success' : 'failure',
    value: formatValue(value),
    threshold,
    ...(raw !== undefined && { raw }),
    message: `${name}: value ${formatValue(value)} ${passed ? 'meets' : 'fails'} threshold ${threshold}${detail}`,
  };
}
