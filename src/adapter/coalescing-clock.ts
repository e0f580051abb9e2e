import type { Clock, ScheduledTimer } from './clock.ts';

interface Entry extends ScheduledTimer {
  readonly callback: () => void;
}

/** Timers of one delay started within one slot of time: they share a single timer of the inner clock. */
interface Bucket {
  readonly delayMs: number;
  readonly slot: number;
  readonly entries: Set<Entry>;
  inner: ScheduledTimer | undefined;
}

/**
 * A clock whose timers of the same delay, started within the same slot of time, share one timer of
 * the inner clock. The consumer and the idempotency store start several timers per message (handler
 * timeout, lease renewal, command deadlines) and nearly all of them are cancelled within
 * milliseconds: with one runtime timer each, starting and cancelling them cost more CPU than the
 * rest of a message's handling.
 *
 * A timer never fires early, and at most 1% of its delay (at least 1 ms) late. Timers of one bucket
 * fire in the order they were scheduled; one cancelled by an earlier one's callback does not fire.
 */
export class CoalescingClock implements Clock {
  private readonly inner: Clock;
  /** Per delay, the bucket that new timers still join. */
  private readonly open = new Map<number, Bucket>();

  constructor(inner: Clock) {
    this.inner = inner;
  }

  now(): number {
    return this.inner.now();
  }

  schedule(ms: number, callback: () => void): ScheduledTimer {
    const now = this.inner.now();
    const slotMs = Math.max(1, Math.floor(ms / 100));
    const slot = Math.floor(now / slotMs);
    let bucket = this.open.get(ms);
    if (bucket?.slot !== slot) {
      const opened: Bucket = { delayMs: ms, slot, entries: new Set(), inner: undefined };
      // Due when the last timer that can join this slot is: (slot + 1) * slotMs + ms.
      opened.inner = this.inner.schedule((slot + 1) * slotMs - now + ms, () => {
        this.fire(opened);
      });
      this.open.set(ms, opened);
      bucket = opened;
    }
    const joined = bucket;
    const entry: Entry = {
      callback,
      cancel: () => {
        this.drop(joined, entry);
      },
    };
    joined.entries.add(entry);
    return entry;
  }

  /** A cancelled timer leaves its bucket; the bucket's own timer goes once nothing waits on it. */
  private drop(bucket: Bucket, entry: Entry): void {
    if (!bucket.entries.delete(entry) || bucket.entries.size > 0) return;
    bucket.inner?.cancel();
    this.close(bucket);
  }

  private fire(bucket: Bucket): void {
    this.close(bucket);
    for (const entry of bucket.entries) {
      bucket.entries.delete(entry);
      try {
        entry.callback();
      } catch (error) {
        // As with a runtime timer, the error surfaces as uncaught; the other timers still fire.
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  }

  private close(bucket: Bucket): void {
    if (this.open.get(bucket.delayMs) === bucket) this.open.delete(bucket.delayMs);
  }
}
