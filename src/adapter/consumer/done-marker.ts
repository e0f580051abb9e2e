import type { FinishResult, IdempotencyStore, Lease } from '../idempotency/idempotency-store.ts';
import { backoffDelay, type BackoffPolicy } from './backoff.ts';
import { pause, type Clock } from '../clock.ts';

export interface DoneMarkerOptions {
  store: IdempotencyStore;
  clock: Clock;
  backoff: BackoffPolicy;
  /** Gives up (`abandoned`) when this aborts: the process is going away before the store came back. */
  signal: AbortSignal;
  onError: (error: unknown, failures: number) => void;
}

/**
 * Marks a successful delivery done, retrying with back-off until the mark lands. A succeeded
 * handler's lease is never released instead: releasing would let another worker run it again.
 */
export async function markDoneUntilLanded(
  lease: Lease,
  options: DoneMarkerOptions,
): Promise<FinishResult<'marked'> | 'abandoned'> {
  for (let failures = 0; ;) {
    if (options.signal.aborted) return 'abandoned';
    try {
      return await options.store.markDone(lease);
    } catch (error) {
      failures += 1;
      options.onError(error, failures);
      await pause(options.clock, backoffDelay(options.backoff, failures), options.signal);
    }
  }
}
