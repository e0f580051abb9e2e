import type { Clock, ScheduledTimer } from '../../src/adapter/clock.ts';

interface Pending {
  at: number;
  callback: () => void;
  cancelled: boolean;
}

/** A clock that moves only when the test advances it; due callbacks run in time order. */
export class ManualClock implements Clock {
  private current: number;
  private readonly pending: Pending[] = [];

  constructor(start = 1_000_000) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  schedule(ms: number, callback: () => void): ScheduledTimer {
    const entry: Pending = { at: this.current + ms, callback, cancelled: false };
    this.pending.push(entry);
    return {
      cancel: () => {
        entry.cancelled = true;
      },
    };
  }

  /** Timers not yet fired or cancelled. */
  get scheduled(): number {
    return this.pending.filter((entry) => !entry.cancelled).length;
  }

  /**
   * Moves time forward by `ms`, firing every callback that falls due on the way, and lets the
   * promise reactions they trigger run before the next one.
   */
  async advance(ms: number): Promise<void> {
    const target = this.current + ms;
    for (;;) {
      const due = this.pending
        .filter((entry) => !entry.cancelled && entry.at <= target)
        .sort((a, b) => a.at - b.at)[0];
      if (due === undefined) break;
      this.pending.splice(this.pending.indexOf(due), 1);
      this.current = due.at;
      due.callback();
      await settle();
    }
    this.current = target;
    await settle();
  }
}

/** Lets pending promise reactions run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 10; i += 1) await Promise.resolve();
}
