import { describe, expect, it } from 'vitest';
import { durationMs } from '../../../../src/operator/api/durations.ts';

describe('spec durations', () => {
  it.each([
    ['250ms', 250],
    ['30s', 30_000],
    ['5m', 300_000],
    ['1h30m', 5_400_000],
    ['1m30s500ms', 90_500],
  ])('reads %s as %i ms, as CEL’s duration() does', (text, ms) => {
    expect(durationMs(text)).toBe(ms);
  });

  it.each(['', '10', '10 minutes', '1d', '-5s', '1.5h'])('refuses %j', (text) => {
    expect(() => durationMs(text)).toThrow(/is not a duration/);
  });
});
