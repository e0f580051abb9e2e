import { systemClock, type Clock, type ScheduledTimer } from '../clock.ts';

export interface SlotBudgetOptions {
  /** Default: the system clock. */
  clock?: Clock;
  /**
   * How long a fetch may wait for its low-water mark of free slots once at least one is free.
   * Default 2 ms: long enough to gather the slots that one batch of replies frees, short enough
   * that slow handlers never leave a free slot idle for long.
   */
  fillWaitMs?: number;
}

interface Waiter {
  /** Free slots that satisfy this waiter. */
  need: number;
  resolve: () => void;
}

/**
 * The pool's handler slots, shared by every back end it consumes. A fetch reserves slots before it
 * asks a back end for messages, so all back ends together never hold more messages than the pool
 * can take; what a fetch did not fill goes back at once.
 */
export class SlotBudget {
  readonly capacity: number;
  private readonly clock: Clock;
  private readonly fillWaitMs: number;
  private taken = 0;
  private readonly waiters = new Set<Waiter>();

  constructor(capacity: number, options: SlotBudgetOptions = {}) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) {
      throw new RangeError(`a slot budget needs at least one slot, got ${capacity}`);
    }
    this.capacity = capacity;
    this.clock = options.clock ?? systemClock;
    this.fillWaitMs = options.fillWaitMs ?? 2;
  }

  get free(): number {
    return Math.max(this.capacity - this.taken, 0);
  }

  /**
   * Takes up to `max` free slots, waiting while none is free. When fewer than `lowWater` (and than
   * `max`) are free, it first waits up to `fillWaitMs` for that many: under load slots come free a
   * few at a time, and one fetch per freed slot would cost a round trip for every message or two.
   * Never takes more than is free. Resolves 0 only when `signal` aborts (nothing is then taken).
   */
  async reserve(max: number, signal: AbortSignal, lowWater = 1): Promise<number> {
    const wanted = Math.min(max, lowWater);
    let filled = false;
    for (;;) {
      if (signal.aborted) return 0;
      if (this.free === 0) {
        await this.until(1, signal);
      } else if (this.free < wanted && !filled) {
        filled = true;
        await this.until(wanted, signal, this.fillWaitMs);
      } else {
        const granted = Math.min(max, this.free);
        this.taken += granted;
        return granted;
      }
    }
  }

  /** Settles a reservation of `reserved` slots of which `used` now hold messages. */
  settle(reserved: number, used: number): void {
    this.taken += used - reserved;
    if (used < reserved) this.wake();
  }

  /** A held message is finished with: its slot is free again. */
  release(): void {
    this.taken -= 1;
    this.wake();
  }

  /** Resolves once `need` slots are free, `signal` aborts, or `maxWaitMs` (when given) passed. */
  private until(need: number, signal: AbortSignal, maxWaitMs?: number): Promise<void> {
    return new Promise((resolve) => {
      let timer: ScheduledTimer | undefined;
      const waiter: Waiter = {
        need,
        resolve: () => {
          this.waiters.delete(waiter);
          signal.removeEventListener('abort', waiter.resolve);
          timer?.cancel();
          resolve();
        },
      };
      this.waiters.add(waiter);
      signal.addEventListener('abort', waiter.resolve, { once: true });
      if (maxWaitMs !== undefined) timer = this.clock.schedule(maxWaitMs, waiter.resolve);
    });
  }

  private wake(): void {
    const free = this.free;
    for (const waiter of this.waiters) if (waiter.need <= free) waiter.resolve();
  }
}
