import type { Clock, ScheduledTimer } from '../clock.ts';

export type DeadlineOutcome<T> = { settled: true; value: T } | { settled: false };

/**
 * Waits for `work` at most `ms`. Past the deadline the work is left running and its eventual
 * failure is ignored: the caller has moved on and reports the timeout itself.
 */
export async function withDeadline<T>(
  work: Promise<T>,
  ms: number,
  clock: Clock,
): Promise<DeadlineOutcome<T>> {
  let timer: ScheduledTimer | undefined;
  const expired = new Promise<DeadlineOutcome<T>>((resolve) => {
    timer = clock.schedule(ms, () => {
      resolve({ settled: false });
    });
  });
  try {
    return await Promise.race([work.then((value) => ({ settled: true as const, value })), expired]);
  } finally {
    timer?.cancel();
  }
}
