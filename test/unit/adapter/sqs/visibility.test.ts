import { describe, expect, it } from 'vitest';
import { MAX_VISIBILITY_SECONDS, visibilityTimeoutSeconds } from '../../../../src/adapter/sqs/visibility.ts';

const HOUR = 3_600_000;

describe('visibilityTimeoutSeconds', () => {
  it.each([
    { wantedMs: 0, heldMs: 0, seconds: 0, why: 'no delay makes the message visible at once' },
    { wantedMs: 1, heldMs: 0, seconds: 1, why: 'a delay below a second still waits a second' },
    { wantedMs: 1_500, heldMs: 0, seconds: 2, why: 'rounded up, so a retry never comes early' },
    { wantedMs: 2_000, heldMs: 0, seconds: 2, why: 'whole seconds stay as they are' },
    { wantedMs: -5, heldMs: 0, seconds: 0, why: 'a negative delay is no delay' },
    { wantedMs: 13 * HOUR, heldMs: 0, seconds: MAX_VISIBILITY_SECONDS, why: 'SQS allows 12 h at most' },
    {
      wantedMs: 60_000,
      heldMs: 11 * HOUR + 59.5 * 60_000,
      seconds: 30,
      why: 'only what is left of the 12 h',
    },
    { wantedMs: 60_000, heldMs: 12 * HOUR + 1, seconds: 0, why: 'nothing is left after 12 h' },
  ])(
    '$wantedMs ms wanted after holding $heldMs ms gives $seconds s: $why',
    ({ wantedMs, heldMs, seconds }) => {
      expect(visibilityTimeoutSeconds(wantedMs, heldMs)).toBe(seconds);
    },
  );
});
