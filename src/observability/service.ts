/**
 * A long-running service (the webhook, the worker): it serves until `signal` aborts, then shuts
 * down gracefully (stops taking work, finishes what is in hand within its grace, releases its
 * connections) and resolves. It rejects only when it cannot go on by itself.
 */
export interface Service {
  run(signal: AbortSignal): Promise<void>;
}

/** Where a service listens, and what every service's readiness check may take. */
export interface ListenSettings {
  port: number;
  /** Default: every interface. */
  host?: string | undefined;
}

/**
 * A readiness check that has not answered in this time reads as not ready: the kubelet's own probe
 * timeout is short, and a back end that takes longer than this to answer a ping is not serving.
 */
export const READINESS_TIMEOUT_MS = 2_000;

/** Resolves once `signal` aborts. */
export function untilAborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    signal.addEventListener(
      'abort',
      () => {
        resolve();
      },
      { once: true },
    );
  });
}
