import type { IdempotencyStore, Lease } from '../idempotency/idempotency-store.ts';
import type { Clock, ScheduledTimer } from '../clock.ts';

export interface LeaseRenewerOptions {
  store: IdempotencyStore;
  lease: Lease;
  clock: Clock;
  /** Another worker holds the lease now; renewal has stopped. */
  onLost: () => void;
  /** A renewal did not reach the store; the next one is tried on schedule. */
  onError: (error: unknown) => void;
}

/**
 * Renews a running handler's lease every third of the lease time, so two renewals may fail in a row
 * before the lease can expire under a live handler.
 */
export class LeaseRenewer {
  private readonly options: LeaseRenewerOptions;
  private timer: ScheduledTimer | undefined;
  private stopped = false;

  constructor(options: LeaseRenewerOptions) {
    this.options = options;
  }

  start(): void {
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
  }

  private schedule(): void {
    if (this.stopped) return;
    const { clock, store } = this.options;
    this.timer = clock.schedule(store.leaseMs / 3, () => {
      void this.renew();
    });
  }

  private async renew(): Promise<void> {
    const { store, lease, onLost, onError } = this.options;
    try {
      const renewed = await store.renew(lease);
      if (this.stopped) return;
      if (!renewed) {
        this.stopped = true;
        onLost();
        return;
      }
    } catch (error) {
      if (!this.stopped) onError(error);
    }
    this.schedule();
  }
}
