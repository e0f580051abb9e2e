import { describe, expect, it } from 'vitest';
import { CoalescingClock } from '../../../../src/adapter/coalescing-clock.ts';
import { ManualClock } from '../../../support/manual-clock.ts';

describe('CoalescingClock', () => {
  it('many timers of one delay started together use one timer of the clock below', () => {
    const inner = new ManualClock();
    const clock = new CoalescingClock(inner);
    for (let i = 0; i < 50; i++) clock.schedule(60_000, () => undefined);
    clock.schedule(10_000, () => undefined);
    expect(inner.scheduled).toBe(2);
  });

  it('fires no earlier than asked and at most 1% later, in the order the timers were scheduled', async () => {
    const inner = new ManualClock(1_000_050);
    const clock = new CoalescingClock(inner);
    const fired: string[] = [];
    clock.schedule(10_000, () => fired.push('first')); // due at 1_010_050
    await inner.advance(40);
    clock.schedule(10_000, () => fired.push('second')); // due at 1_010_090

    await inner.advance(9_959);
    expect(fired).toEqual([]);
    // Both joined the slot [1_000_000, 1_000_100) of 1% of 10 s: the bucket is due at its end plus 10 s.
    await inner.advance(50);
    expect(fired).toEqual([]);
    await inner.advance(1);
    expect(fired).toEqual(['first', 'second']);
  });

  it('a cancelled timer never fires; the timer below goes once all of its timers are cancelled', async () => {
    const inner = new ManualClock();
    const clock = new CoalescingClock(inner);
    let fired = 0;
    const timers = [1, 2, 3].map(() => clock.schedule(5_000, () => (fired += 1)));
    timers[0]?.cancel();
    timers[1]?.cancel();
    expect(inner.scheduled).toBe(1);
    timers[2]?.cancel();
    expect(inner.scheduled).toBe(0);
    await inner.advance(10_000);
    expect(fired).toBe(0);
  });

  it('a timer cancelled by an earlier callback of the same bucket does not fire', async () => {
    const inner = new ManualClock();
    const clock = new CoalescingClock(inner);
    const fired: string[] = [];
    clock.schedule(1_000, () => {
      fired.push('canceller');
      victim.cancel();
    });
    const victim = clock.schedule(1_000, () => fired.push('victim'));
    clock.schedule(1_000, () => fired.push('bystander'));
    await inner.advance(1_010);
    expect(fired).toEqual(['canceller', 'bystander']);
  });

  it('a timer scheduled from a callback gets a full delay of its own', async () => {
    const inner = new ManualClock();
    const clock = new CoalescingClock(inner);
    let renewals = 0;
    const renew = (): void => {
      renewals += 1;
      clock.schedule(1_000, renew);
    };
    clock.schedule(1_000, renew);
    await inner.advance(1_010);
    expect(renewals).toBe(1);
    await inner.advance(990);
    expect(renewals).toBe(1);
    await inner.advance(20);
    expect(renewals).toBe(2);
  });
});
