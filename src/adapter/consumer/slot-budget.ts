/**
 * The pool's handler slots, shared by every back end it consumes. A fetch reserves slots before it
 * asks a back end for messages, so all back ends together never hold more messages than the pool
 * can take; what a fetch did not fill goes back at once.
 */
export class SlotBudget {
  readonly capacity: number;
  private taken = 0;
  private readonly waiters = new Set<() => void>();

  constructor(capacity: number) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) {
      throw new RangeError(`a slot budget needs at least one slot, got ${capacity}`);
    }
    this.capacity = capacity;
  }

  get free(): number {
    return Math.max(this.capacity - this.taken, 0);
  }

  /**
   * Takes up to `max` free slots, waiting while none is free. Resolves 0 only when `signal` aborts
   * (nothing is then taken).
   */
  async reserve(max: number, signal: AbortSignal): Promise<number> {
    while (this.free === 0 && !signal.aborted) await this.nextRelease(signal);
    if (signal.aborted) return 0;
    const granted = Math.min(max, this.free);
    this.taken += granted;
    return granted;
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

  private nextRelease(signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        this.waiters.delete(done);
        signal.removeEventListener('abort', done);
        resolve();
      };
      this.waiters.add(done);
      signal.addEventListener('abort', done, { once: true });
    });
  }

  private wake(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}
