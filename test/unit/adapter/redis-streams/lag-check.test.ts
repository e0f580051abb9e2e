import { describe, expect, it } from 'vitest';
import { backlogOf, crossCheckLag } from '../../../../src/adapter/redis-streams/lag-check.ts';

describe('lag cross-check', () => {
  it.each([
    { reported: 0, oldestUndeliveredId: undefined, expected: { known: true, value: 0 } },
    { reported: 4, oldestUndeliveredId: '9-0', expected: { known: true, value: 4 } },
  ])(
    'believes lag $reported when the first undelivered entry agrees',
    ({ reported, oldestUndeliveredId, expected }) => {
      expect(crossCheckLag({ reported, lastDeliveredId: '8-0', oldestUndeliveredId })).toEqual(expected);
    },
  );

  it.each([
    [null, undefined, /reports lag as NULL/],
    [null, '9-0', /reports lag as NULL/],
    [0, '9-0', /reports lag 0, but entry 9-0 after last-delivered-id 8-0 was never delivered/],
    [3, undefined, /reports lag 3, but no entry exists after last-delivered-id 8-0/],
  ])('lag %s with first undelivered %s is unknown, never 0', (reported, oldestUndeliveredId, reason) => {
    const lag = crossCheckLag({ reported, lastDeliveredId: '8-0', oldestUndeliveredId });
    expect(lag).toEqual({ known: false, reason: expect.stringMatching(reason) as string });
  });

  it('backlog adds pending to a known lag and stays unknown with an unknown one', () => {
    expect(backlogOf({ known: true, value: 2 }, 3)).toEqual({ known: true, value: 5 });
    expect(backlogOf({ known: false, reason: 'why' }, 3)).toEqual({ known: false, reason: 'why' });
  });
});
