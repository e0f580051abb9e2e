import { describe, expect, it } from 'vitest';
import type { CommitState } from '../../../../src/adapter/consumer/delivery-context.ts';
import {
  settlementFor,
  type AttemptResult,
  type Settlement,
} from '../../../../src/adapter/consumer/settlement.ts';

const ack: AttemptResult = { kind: 'outcome', outcome: { kind: 'ack' } };
const retry: AttemptResult = {
  kind: 'outcome',
  outcome: { kind: 'retry', delayMs: 750, reason: 'rate limited' },
};
const dead: AttemptResult = { kind: 'outcome', outcome: { kind: 'dead', reason: 'unknown event' } };
const threw: AttemptResult = { kind: 'threw', error: new Error('socket hang up') };
const timedOut: AttemptResult = { kind: 'timed-out', afterMs: 60_000 };
const leaseLost: AttemptResult = { kind: 'lease-lost' };

const DEFAULT_DELAY = 5_000;
const LIMIT = 5;
const theirs = 'another worker holds the lease';

interface Row {
  name: string;
  attempt: AttemptResult;
  commit: CommitState;
  deliveryCount?: number;
  expected: Settlement;
}

const rows: Row[] = [
  {
    name: 'ack without commit is marked done, then acked',
    attempt: ack,
    commit: 'none',
    expected: { action: 'ack', markDone: true },
  },
  {
    name: 'ack after a commit needs no separate done mark',
    attempt: ack,
    commit: 'committed',
    expected: { action: 'ack', markDone: false },
  },
  {
    name: 'retry after a commit is acked: the effects exist',
    attempt: retry,
    commit: 'committed',
    expected: {
      action: 'ack',
      markDone: false,
      note: 'the handler returned retry after committing; acknowledged',
    },
  },
  {
    name: 'dead after a commit is acked',
    attempt: dead,
    commit: 'committed',
    expected: {
      action: 'ack',
      markDone: false,
      note: 'the handler returned dead after committing; acknowledged',
    },
  },
  {
    name: 'a throw after a commit is acked',
    attempt: threw,
    commit: 'committed',
    expected: {
      action: 'ack',
      markDone: false,
      note: 'the handler threw: socket hang up after committing; acknowledged',
    },
  },
  {
    name: 'a commit refused because the delivery is done elsewhere is acked',
    attempt: threw,
    commit: 'already-done',
    expected: {
      action: 'ack',
      markDone: false,
      note: 'the handler threw: socket hang up after the delivery was done elsewhere; acknowledged',
    },
  },
  {
    name: 'a commit refused for a lost lease is retried',
    attempt: threw,
    commit: 'lost',
    expected: { action: 'retry', delayMs: DEFAULT_DELAY, reason: theirs },
  },
  {
    name: 'a lost lease is retried, never dead, even on the last delivery',
    attempt: leaseLost,
    commit: 'none',
    deliveryCount: LIMIT,
    expected: { action: 'retry', delayMs: DEFAULT_DELAY, reason: theirs },
  },
  {
    name: 'retry keeps its delay and reason',
    attempt: retry,
    commit: 'none',
    expected: { action: 'retry', delayMs: 750, reason: 'rate limited' },
  },
  {
    name: 'retry on the last allowed delivery becomes dead with its reason',
    attempt: retry,
    commit: 'none',
    deliveryCount: LIMIT,
    expected: { action: 'dead', reason: 'gave up after 5 deliveries: rate limited' },
  },
  {
    name: 'dead keeps its reason',
    attempt: dead,
    commit: 'none',
    expected: { action: 'dead', reason: 'unknown event' },
  },
  {
    name: 'a throw is a retry with the default delay',
    attempt: threw,
    commit: 'none',
    expected: { action: 'retry', delayMs: DEFAULT_DELAY, reason: 'the handler threw: socket hang up' },
  },
  {
    name: 'a timeout is a retry with the default delay',
    attempt: timedOut,
    commit: 'none',
    expected: { action: 'retry', delayMs: DEFAULT_DELAY, reason: 'the handler timed out after 60000 ms' },
  },
  {
    name: 'a timeout on the last delivery becomes dead',
    attempt: timedOut,
    commit: 'none',
    deliveryCount: LIMIT,
    expected: { action: 'dead', reason: 'gave up after 5 deliveries: the handler timed out after 60000 ms' },
  },
  {
    name: 'an ack after a failed commit is retried: the commit may not have landed',
    attempt: ack,
    commit: 'failed',
    expected: {
      action: 'retry',
      delayMs: DEFAULT_DELAY,
      reason: 'the handler acknowledged after a failed commit',
    },
  },
  {
    name: 'a throw after a failed commit is retried',
    attempt: threw,
    commit: 'failed',
    expected: { action: 'retry', delayMs: DEFAULT_DELAY, reason: 'the handler threw: socket hang up' },
  },
];

describe('settlementFor', () => {
  it.each(rows)('$name', ({ attempt, commit, deliveryCount = 1, expected }) => {
    expect(
      settlementFor({
        attempt,
        commit,
        deliveryCount,
        maxDeliveries: LIMIT,
        defaultRetryDelayMs: DEFAULT_DELAY,
      }),
    ).toEqual(expected);
  });
});
