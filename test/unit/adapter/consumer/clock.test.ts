import { describe, expect, it } from 'vitest';
import { backoffDelay } from '../../../../src/adapter/consumer/backoff.ts';
import { pause } from '../../../../src/adapter/clock.ts';
import { ManualClock } from '../../../support/manual-clock.ts';

describe('pause', () => {
  it('resolves once the clock reaches the delay', async () => {
    const clock = new ManualClock();
    let over = false;
    void pause(clock, 500).then(() => (over = true));
    await clock.advance(499);
    expect(over).toBe(false);
    await clock.advance(1);
    expect(over).toBe(true);
  });

  it('resolves early when its signal aborts, and cancels its timer', async () => {
    const clock = new ManualClock();
    const controller = new AbortController();
    const paused = pause(clock, 60_000, controller.signal);
    controller.abort();
    await paused;
    expect(clock.scheduled).toBe(0);
  });
});

describe('backoffDelay', () => {
  it.each([
    [1, 100],
    [2, 200],
    [3, 400],
    [6, 3_200],
    [7, 5_000],
    [1_000, 5_000],
  ])('after %i failures waits %i ms (100 ms doubling, capped at 5 s)', (failures, expected) => {
    expect(backoffDelay({ initialMs: 100, maxMs: 5_000 }, failures)).toBe(expected);
  });
});
