/** A pending callback of `Clock.schedule`. */
export interface ScheduledTimer {
  cancel(): void;
}

/**
 * Time as the adapter sees it. Leases, heartbeats, handler timeouts, back-offs and publish budgets
 * all go through one of these, so tests drive them with a manual clock instead of sleeping.
 */
export interface Clock {
  now(): number;
  /** Runs `callback` once, `ms` from now, unless cancelled first. */
  schedule(ms: number, callback: () => void): ScheduledTimer;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  schedule: (ms, callback) => {
    const timer = setTimeout(callback, ms);
    return {
      cancel: () => {
        clearTimeout(timer);
      },
    };
  },
};

/** Resolves after `ms`, or as soon as `signal` aborts; never rejects. */
export function pause(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      timer.cancel();
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = clock.schedule(ms, done);
    signal?.addEventListener('abort', done, { once: true });
  });
}
