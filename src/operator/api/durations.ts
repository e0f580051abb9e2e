/**
 * Durations in the spec use the Kubernetes (Go) notation, `90s`, `1h30m`, `250ms`, so that CEL's
 * `duration()` reads the same text the operator parses.
 */
export const DURATION_PATTERN = '^([0-9]{1,7}(ms|s|m|h))+$';

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };

/** Milliseconds of a duration matching DURATION_PATTERN; throws on anything else. */
export function durationMs(text: string): number {
  if (!new RegExp(DURATION_PATTERN).test(text)) {
    throw new RangeError(`"${text}" is not a duration such as 30s, 5m or 1h30m`);
  }
  let total = 0;
  for (const [, digits, unit] of text.matchAll(/([0-9]+)(ms|s|m|h)/g)) {
    total += Number(digits) * (UNIT_MS[unit ?? ''] ?? Number.NaN);
  }
  return total;
}
