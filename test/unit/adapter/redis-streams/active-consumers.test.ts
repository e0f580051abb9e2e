import { describe, expect, it } from 'vitest';
import { activeConsumers } from '../../../../src/adapter/redis-streams/active-consumers.ts';
import type { ConsumerInfo } from '../../../../src/adapter/redis-streams/xinfo-replies.ts';

const WINDOW = 30_000;

const consumer = (idleMs: number, inactiveMs?: number): ConsumerInfo => ({
  name: 'worker-0',
  pending: 0,
  idleMs,
  ...(inactiveMs === undefined ? {} : { inactiveMs }),
});

describe('active consumers', () => {
  it.each([
    ['7.0, delivered to within the window', consumer(1_000), 0, true],
    [
      '7.0, idle past the window on a stream with nothing to deliver: idle proves nothing',
      consumer(600_000),
      0,
      true,
    ],
    [
      '7.0, idle past the window while an entry waits only briefly (a burst after a quiet spell)',
      consumer(600_000),
      2_000,
      true,
    ],
    [
      '7.0, idle past the window while an entry has waited as long: stopped reading',
      consumer(600_000),
      WINDOW,
      false,
    ],
    [
      '7.0, delivered to recently while an old entry waits (others hold the rest)',
      consumer(1_000),
      90_000,
      true,
    ],
    [
      '7.2, an empty read within the window, though nothing was delivered for long',
      consumer(600_000, 500),
      90_000,
      true,
    ],
    [
      '7.2, no read attempt within the window, even with nothing to deliver',
      consumer(600_000, WINDOW),
      0,
      false,
    ],
    ['7.2, created by XGROUP CREATECONSUMER and never read', consumer(10, -1), 0, false],
  ])('%s', (_case, info, oldestUndeliveredAgeMs, active) => {
    expect(activeConsumers([info], { windowMs: WINDOW, oldestUndeliveredAgeMs })).toEqual(
      active ? ['worker-0'] : [],
    );
  });

  it('a consumer absent from XINFO CONSUMERS (never joined the group) is never active', () => {
    expect(activeConsumers([], { windowMs: WINDOW, oldestUndeliveredAgeMs: 0 })).toEqual([]);
  });
});
