import { describe, expect, it } from 'vitest';
import type { Clock } from '../../../../src/adapter/clock.ts';
import { RequestSignals } from '../../../../src/adapter/sqs/request-signals.ts';

/** Time moves only when the test says so. */
function manualClock(): Clock & { advance(ms: number): void; pending(): number } {
  let now = 0;
  const timers = new Set<{ at: number; run: () => void }>();
  return {
    now: () => now,
    schedule(ms, run) {
      const timer = { at: now + ms, run };
      timers.add(timer);
      return { cancel: () => timers.delete(timer) };
    },
    advance(ms) {
      now += ms;
      for (const timer of [...timers].filter((t) => t.at <= now)) {
        timers.delete(timer);
        timer.run();
      }
    },
    pending: () => timers.size,
  };
}

describe('RequestSignals', () => {
  it('fires on the time budget and says so', () => {
    const clock = manualClock();
    const scope = new RequestSignals(clock).open({ timeoutMs: 1_000 });
    clock.advance(999);
    expect(scope.signal.aborted).toBe(false);
    clock.advance(1);
    expect(scope.signal.aborted).toBe(true);
    expect(scope.abortCause).toBe('timeout');
  });

  it("fires on the caller's signal, whether it aborts before or during the request", () => {
    const signals = new RequestSignals(manualClock());
    const during = new AbortController();
    const scope = signals.open({ caller: during.signal, timeoutMs: 1_000 });
    during.abort();
    expect(scope.abortCause).toBe('caller');
    expect(signals.open({ caller: AbortSignal.abort(), timeoutMs: 1_000 }).abortCause).toBe('caller');
  });

  it('aborts open requests on closeAll, and every request opened after it', () => {
    const signals = new RequestSignals(manualClock());
    const open = signals.open({ timeoutMs: 1_000 });
    signals.closeAll();
    expect(open.abortCause).toBe('closed');
    expect(signals.open({ timeoutMs: 1_000 }).abortCause).toBe('closed');
    expect(signals.closed).toBe(true);
  });

  it('keeps the first cause: a request that timed out is not re-labelled by a later close', () => {
    const clock = manualClock();
    const signals = new RequestSignals(clock);
    const scope = signals.open({ timeoutMs: 10 });
    clock.advance(10);
    signals.closeAll();
    expect(scope.abortCause).toBe('timeout');
  });

  it("lets go of the timer and of the caller's signal once the request settled", () => {
    const clock = manualClock();
    const signals = new RequestSignals(clock);
    const caller = new AbortController();
    const scope = signals.open({ caller: caller.signal, timeoutMs: 1_000 });
    scope.end();
    expect(clock.pending()).toBe(0);
    caller.abort();
    signals.closeAll();
    expect(scope.signal.aborted).toBe(false);
  });
});
