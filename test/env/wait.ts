import { setTimeout as sleep } from 'node:timers/promises';

export interface WaitOptions {
  /** What is awaited, for the error message: "redis on 127.0.0.1:6380 to answer PING". */
  what: string;
  /** Default 30 s. */
  timeoutMs?: number;
  /** Default 100 ms. */
  intervalMs?: number;
}

/**
 * Polls `check` until it returns a value other than undefined/false, and returns that value.
 * A check that throws counts as "not yet"; its last error is reported on timeout.
 */
export async function waitUntil<T>(
  check: () => Promise<T | undefined | false> | T | undefined | false,
  options: WaitOptions,
): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= deadline) {
      const cause = lastError instanceof Error ? `: last error: ${lastError.message}` : '';
      throw new Error(
        `timed out after ${options.timeoutMs ?? 30_000} ms waiting for ${options.what}${cause}`,
        {
          cause: lastError,
        },
      );
    }
    await sleep(options.intervalMs ?? 100);
  }
}
