/** Restart back-off settings; the kubelet's defaults. */
export interface BackoffPolicy {
  /** First non-zero delay. Default 10 s. */
  baseMs: number;
  /** Cap. Default 5 min. */
  maxMs: number;
  /** A container that ran at least this long starts over with no delay. Default 10 min. */
  resetAfterMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 10_000, maxMs: 300_000, resetAfterMs: 600_000 };

/** Per-container memory between restarts: the delay the next crash will wait. */
export interface BackoffState {
  nextDelayMs: number;
}

/**
 * The delay before restarting a container that ran from `startedAt` to `finishedAt` (ms), as the
 * kubelet computes it: the first crash (or one after a long enough run) restarts at once, then
 * the delays are base, 2·base, 4·base, … up to the cap.
 */
export function restartDelay(
  previous: BackoffState | undefined,
  run: { startedAt: number; finishedAt: number },
  policy: BackoffPolicy,
): { delayMs: number; state: BackoffState } {
  if (previous === undefined || run.finishedAt - run.startedAt >= policy.resetAfterMs) {
    return { delayMs: 0, state: { nextDelayMs: Math.min(policy.baseMs, policy.maxMs) } };
  }
  return {
    delayMs: previous.nextDelayMs,
    state: { nextDelayMs: Math.min(previous.nextDelayMs * 2, policy.maxMs) },
  };
}

/** Whether a container that exited with `exitCode` is started again under `restartPolicy`. */
export function shouldRestart(restartPolicy: string | undefined, exitCode: number): boolean {
  switch (restartPolicy ?? 'Always') {
    case 'Never':
      return false;
    case 'OnFailure':
      return exitCode !== 0;
    default:
      return true;
  }
}
