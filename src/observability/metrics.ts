import { Counter, Histogram, type Registry } from 'prom-client';
import { DURATION_BUCKETS } from './metric-names.ts';

export interface FamilyDefinition {
  name: string;
  help: string;
}

export type Series<L extends string> = Readonly<Record<L, string>>;

/** Every combination of the given label values. */
export function labelCombinations<L extends string>(
  values: Readonly<Record<L, readonly string[]>>,
): Series<L>[] {
  let combinations: Record<string, string>[] = [{}];
  for (const [label, options] of Object.entries<readonly string[]>(values)) {
    combinations = combinations.flatMap((partial) =>
      options.map((value) => ({ ...partial, [label]: value })),
    );
  }
  return combinations as Series<L>[];
}

/**
 * A counter whose `series` exist from start-up with value 0, so that "no traffic" reads as 0
 * rather than as no data.
 */
export function zeroedCounter<L extends string>(
  registry: Registry,
  family: FamilyDefinition,
  labelNames: readonly L[],
  series: readonly Series<L>[],
): Counter<L> {
  const counter = new Counter<L>({ ...family, labelNames, registers: [registry] });
  for (const labels of series) counter.inc(labels, 0);
  return counter;
}

/** A duration histogram (seconds) whose `series` exist from start-up, like `zeroedCounter`. */
export function zeroedHistogram<L extends string>(
  registry: Registry,
  family: FamilyDefinition,
  labelNames: readonly L[],
  series: readonly Series<L>[],
): Histogram<L> {
  const histogram = new Histogram<L>({
    ...family,
    labelNames,
    buckets: DURATION_BUCKETS,
    registers: [registry],
  });
  for (const labels of series) histogram.zero(labels);
  return histogram;
}
