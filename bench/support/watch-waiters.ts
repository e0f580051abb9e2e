interface Waiter<T> {
  matches: (object: T) => boolean;
  resolve: (at: number) => void;
}

/**
 * The moments a watch reports objects the bench waits for: a latency ends when the change was
 * seen the way a client sees it, not when a request returned.
 */
export class WatchWaiters<T> {
  private readonly waiters = new Set<Waiter<T>>();
  private readonly timeoutMs: number;
  /** What the watch reports, for the timeout's message. */
  private readonly what: string;

  constructor(what: string, timeoutMs: number) {
    this.what = what;
    this.timeoutMs = timeoutMs;
  }

  /** Resolves with the time (performance.now()) of the first reported object that `matches`. */
  seen(matches: (object: T) => boolean): Promise<number> {
    return new Promise((resolve, reject) => {
      const waiter = { matches, resolve };
      this.waiters.add(waiter);
      setTimeout(() => {
        if (this.waiters.delete(waiter))
          reject(new Error(`no matching ${this.what} event within ${String(this.timeoutMs)} ms`));
      }, this.timeoutMs).unref();
    });
  }

  /** The watch's callback: every reported object goes through here. */
  report(object: T): void {
    const at = performance.now();
    for (const waiter of this.waiters) {
      if (waiter.matches(object)) {
        this.waiters.delete(waiter);
        waiter.resolve(at);
      }
    }
  }
}
