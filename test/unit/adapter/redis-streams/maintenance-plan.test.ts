import { describe, expect, it } from 'vitest';
import { consumersToDelete, trimFloor } from '../../../../src/adapter/redis-streams/maintenance-plan.ts';

describe('trim floor (XTRIM MINID)', () => {
  it.each([
    ['no group: nothing may be trimmed', [], undefined],
    [
      'one group, nothing pending: up to its first undelivered entry',
      [{ group: 'a', lastDeliveredId: '10-0' }],
      '10-1',
    ],
    [
      'one group: up to its oldest pending entry',
      [{ group: 'a', lastDeliveredId: '10-0', oldestPendingId: '4-2' }],
      '4-2',
    ],
    [
      'a lagging group holds the floor for all: its undelivered entries stay',
      [
        { group: 'fast', lastDeliveredId: '10-0' },
        { group: 'slow', lastDeliveredId: '3-0' },
      ],
      '3-1',
    ],
    [
      'the oldest pending entry of any group holds it',
      [
        { group: 'fast', lastDeliveredId: '10-0', oldestPendingId: '2-0' },
        { group: 'slow', lastDeliveredId: '3-0' },
      ],
      '2-0',
    ],
    ['a new group (0-0) keeps everything', [{ group: 'new', lastDeliveredId: '0-0' }], '0-1'],
  ])('%s', (_name, groups, floor) => {
    expect(trimFloor(groups)).toBe(floor);
  });
});

describe('consumers to delete', () => {
  const consumers = [
    { name: 'self', pending: 0, idleMs: 9_000 },
    { name: 'idle-empty', pending: 0, idleMs: 9_000 },
    { name: 'idle-busy', pending: 2, idleMs: 9_000 },
    { name: 'recent-empty', pending: 0, idleMs: 10 },
  ];

  it('only idle consumers with nothing pending, never itself', () => {
    expect(consumersToDelete(consumers, 'self', 1_000)).toEqual(['idle-empty']);
  });

  it('the threshold is strict', () => {
    expect(consumersToDelete(consumers, 'self', 9_000)).toEqual([]);
  });
});
