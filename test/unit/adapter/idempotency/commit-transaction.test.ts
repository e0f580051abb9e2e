import { describe, expect, it } from 'vitest';
import { CommitTransaction } from '../../../../src/adapter/idempotency/commit-transaction.ts';
import { deliveryKeys } from '../../../../src/adapter/idempotency/keys.ts';

describe('CommitTransaction', () => {
  it('records whitelisted writes in order, with their arguments as Redis receives them', () => {
    const tx = new CommitTransaction('d-1')
      .hincrby('ledger', 'd-1', 1)
      .set('last', 'd-1', { expireMs: 60_000 })
      .sadd('seen', 'd-1', 42)
      .zadd('by-time', 1.5, 'd-1')
      .rpush('log', 'a', 'b')
      .del('stale');
    expect(tx.operations).toEqual([
      { command: 'hincrby', key: 'ledger', args: ['d-1', '1'] },
      { command: 'set', key: 'last', args: ['d-1', 'PX', '60000'] },
      { command: 'sadd', key: 'seen', args: ['d-1', '42'] },
      { command: 'zadd', key: 'by-time', args: ['1.5', 'd-1'] },
      { command: 'rpush', key: 'log', args: ['a', 'b'] },
      { command: 'del', key: 'stale', args: [] },
    ]);
  });

  it.each([
    ['a fractional increment', (tx: CommitTransaction) => tx.hincrby('k', 'f', 1.5), /whole number, got 1.5/],
    ['an unsafe integer', (tx: CommitTransaction) => tx.incrby('k', 2 ** 60), /whole number/],
    [
      'a zero expiry',
      (tx: CommitTransaction) => tx.pexpire('k', 0),
      /positive number of milliseconds, got 0/,
    ],
    ['a negative set expiry', (tx: CommitTransaction) => tx.set('k', 'v', { expireMs: -5 }), /positive/],
    [
      'an infinite score',
      (tx: CommitTransaction) => tx.zadd('k', Infinity, 'm'),
      /finite number, got Infinity/,
    ],
    ['a NaN increment', (tx: CommitTransaction) => tx.zincrby('k', NaN, 'm'), /finite number, got NaN/],
    ['sadd without members', (tx: CommitTransaction) => tx.sadd('k'), /at least one member/],
    ['hdel without fields', (tx: CommitTransaction) => tx.hdel('k'), /at least one field/],
    ['an empty key', (tx: CommitTransaction) => tx.del(''), /del needs a key/],
  ])('refuses %s in the handler, naming the delivery', (_name, build, message) => {
    const tx = new CommitTransaction('d-7');
    expect(() => build(tx)).toThrow(message);
    expect(() => build(tx)).toThrow(/delivery d-7/);
    expect(tx.operations).toEqual([]);
  });

  it('carries the invalid-commit code', () => {
    expect(() => new CommitTransaction('d-9').incrby('k', 0.1)).toThrow(
      expect.objectContaining({ code: 'IDEMPOTENCY_INVALID_COMMIT', deliveryId: 'd-9' }),
    );
  });
});

describe('deliveryKeys', () => {
  it('puts the lease and the done mark of a delivery under one hash tag (one cluster slot)', () => {
    const keys = deliveryKeys('queueshift:idem:', '72d3162e-cc78-11e3-81ab-4c9367dc0958');
    expect(keys).toEqual({
      lease: 'queueshift:idem:{72d3162e-cc78-11e3-81ab-4c9367dc0958}:lease',
      done: 'queueshift:idem:{72d3162e-cc78-11e3-81ab-4c9367dc0958}:done',
    });
  });

  it('refuses an empty delivery id, which would make every delivery share keys', () => {
    expect(() => deliveryKeys('p:', '')).toThrow(
      expect.objectContaining({ code: 'IDEMPOTENCY_INVALID_DELIVERY_ID' }),
    );
  });
});
