export interface BackoffPolicy {
  /** Delay after the first failure. */
  initialMs: number;
  /** No delay grows past this. */
  maxMs: number;
}

/** Exponential delay before attempt `failures + 1`: initial, 2×, 4×, … capped at `maxMs`. */
export function backoffDelay(policy: BackoffPolicy, failures: number): number {
  const exponent = Math.max(failures - 1, 0);
  return Math.min(policy.maxMs, policy.initialMs * 2 ** Math.min(exponent, 30));
}
