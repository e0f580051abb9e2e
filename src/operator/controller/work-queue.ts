import type { Clock, ScheduledTimer } from '../../adapter/index.ts';

export interface WorkQueueOptions {
  clock: Clock;
  /** First retry delay of a key that failed; doubles per consecutive failure. */
  baseDelayMs: number;
  maxDelayMs: number;
}

/**
 * Keys (namespace/name) waiting to be reconciled. A key is queued at most once however often it is
 * added, is never handed to two workers at once (one added while in progress comes back after
 * `done`), and a key that keeps failing waits longer each time, so a broken object cannot starve
 * the others.
 */
export class WorkQueue {
  private readonly options: WorkQueueOptions;
  private readonly queue: string[] = [];
  private readonly queued = new Set<string>();
  private readonly processing = new Set<string>();
  /** Added while in progress: queued again when `done`. */
  private readonly dirty = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly timers = new Map<string, { at: number; timer: ScheduledTimer }>();
  private waiters: ((key: string | undefined) => void)[] = [];
  private stopped = false;

  constructor(options: WorkQueueOptions) {
    this.options = options;
  }

  get length(): number {
    return this.queue.length;
  }

  add(key: string): void {
    if (this.stopped) return;
    if (this.processing.has(key)) {
      this.dirty.add(key);
      return;
    }
    if (this.queued.has(key)) return;
    const waiter = this.waiters.shift();
    if (waiter !== undefined) {
      this.processing.add(key);
      waiter(key);
      return;
    }
    this.queued.add(key);
    this.queue.push(key);
  }

  /** Adds the key after `ms`; an earlier pending add of the same key wins. */
  addAfter(key: string, ms: number): void {
    if (this.stopped) return;
    if (ms <= 0) {
      this.add(key);
      return;
    }
    const at = this.options.clock.now() + ms;
    const pending = this.timers.get(key);
    if (pending !== undefined && pending.at <= at) return;
    pending?.timer.cancel();
    const timer = this.options.clock.schedule(ms, () => {
      this.timers.delete(key);
      this.add(key);
    });
    this.timers.set(key, { at, timer });
  }

  /** Adds the key after its failure backoff, and counts the failure. */
  addRateLimited(key: string): void {
    const failures = this.failures.get(key) ?? 0;
    this.failures.set(key, failures + 1);
    this.addAfter(key, Math.min(this.options.baseDelayMs * 2 ** failures, this.options.maxDelayMs));
  }

  /** The key succeeded: its next failure starts from the base delay again. */
  forget(key: string): void {
    this.failures.delete(key);
  }

  /** Next key to work on; undefined once shut down. */
  get(): Promise<string | undefined> {
    const key = this.queue.shift();
    if (key !== undefined) {
      this.queued.delete(key);
      this.processing.add(key);
      return Promise.resolve(key);
    }
    if (this.stopped) return Promise.resolve(undefined);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** The worker finished the key; if it was added meanwhile, it is queued again. */
  done(key: string): void {
    this.processing.delete(key);
    if (this.dirty.delete(key)) this.add(key);
  }

  /** Hands out nothing more; waiting workers get undefined. */
  shutDown(): void {
    this.stopped = true;
    for (const { timer } of this.timers.values()) timer.cancel();
    this.timers.clear();
    for (const waiter of this.waiters) waiter(undefined);
    this.waiters = [];
  }
}
