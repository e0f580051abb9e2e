import { describe, expect, it } from 'vitest';
import {
  DEFAULT_BACKOFF,
  restartDelay,
  shouldRestart,
  type BackoffState,
} from '../../env/local-node/backoff.ts';

describe('restart back-off', () => {
  it('restarts the first crash at once, then waits 10 s doubling up to 5 min', () => {
    let state: BackoffState | undefined;
    const delays: number[] = [];
    for (let i = 0; i < 9; i++) {
      const next = restartDelay(state, { startedAt: 0, finishedAt: 1_000 }, DEFAULT_BACKOFF);
      delays.push(next.delayMs / 1000);
      state = next.state;
    }
    expect(delays).toEqual([0, 10, 20, 40, 80, 160, 300, 300, 300]);
  });

  it('starts over after a container ran for 10 minutes', () => {
    let state: BackoffState | undefined = { nextDelayMs: 160_000 };
    const long = restartDelay(state, { startedAt: 0, finishedAt: 600_000 }, DEFAULT_BACKOFF);
    expect(long.delayMs).toBe(0);
    state = long.state;
    expect(restartDelay(state, { startedAt: 0, finishedAt: 5_000 }, DEFAULT_BACKOFF).delayMs).toBe(10_000);
  });

  it('uses the configured base', () => {
    const policy = { ...DEFAULT_BACKOFF, baseMs: 500 };
    const first = restartDelay(undefined, { startedAt: 0, finishedAt: 10 }, policy);
    const second = restartDelay(first.state, { startedAt: 0, finishedAt: 10 }, policy);
    const third = restartDelay(second.state, { startedAt: 0, finishedAt: 10 }, policy);
    expect([first.delayMs, second.delayMs, third.delayMs]).toEqual([0, 500, 1_000]);
  });

  it.each([
    ['Always', 0, true],
    ['Always', 1, true],
    [undefined, 0, true],
    ['OnFailure', 0, false],
    ['OnFailure', 137, true],
    ['Never', 1, false],
    ['Never', 0, false],
  ])('restartPolicy %s, exit %i → restart %s', (policy, exitCode, expected) => {
    expect(shouldRestart(policy, exitCode)).toBe(expected);
  });
});
