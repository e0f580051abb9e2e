import { describe, expect, it } from 'vitest';
import { pendingOfConsumer } from '../../../../src/operator/drain/mover-departure.ts';

const MOVER = 'queueshift-operator-mover';

describe('the pending count of the mover in an XPENDING summary', () => {
  it.each([
    { what: 'a group with nothing pending', summary: [0, null, null, null], pending: 0 },
    {
      what: 'entries pending under the mover and a worker',
      summary: [
        5,
        '1-0',
        '5-0',
        [
          ['worker-0', '2'],
          [MOVER, '3'],
        ],
      ],
      pending: 3,
    },
    {
      what: 'entries pending under workers only',
      summary: [2, '1-0', '2-0', [['worker-0', '2']]],
      pending: 0,
    },
  ])('reads $pending for $what', ({ summary, pending }) => {
    expect(pendingOfConsumer(summary, MOVER)).toBe(pending);
  });

  it.each([
    { what: 'an error reply', summary: 'ERR' },
    { what: 'a row that is not a [consumer, count] pair', summary: [1, '1-0', '1-0', ['worker-0']] },
    { what: 'a count of the mover that is not a number', summary: [1, '1-0', '1-0', [[MOVER, 'many']]] },
  ])('refuses $what rather than reading it as nothing pending', ({ summary }) => {
    expect(() => pendingOfConsumer(summary, MOVER)).toThrow(/not an XPENDING summary/);
  });
});
