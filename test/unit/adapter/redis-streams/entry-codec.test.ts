import { describe, expect, it } from 'vitest';
import {
  deadLetterFields,
  decodeEntry,
  encodeEntry,
} from '../../../../src/adapter/redis-streams/entry-codec.ts';

describe('stream entry layout', () => {
  it.each([
    { deliveryId: 'd-1', body: '{"a":1}' },
    { deliveryId: 'd-2', body: '', attributes: { event: 'push', 'x-probe': 'yes' } },
    { deliveryId: 'd-3', body: 'ünïcode ✓', attributes: {} },
  ])('a message survives encoding and decoding unchanged: $deliveryId', (message) => {
    expect(decodeEntry(encodeEntry(message))).toEqual({ ok: true, message });
  });

  it('keeps the first value of a repeated field, as written first', () => {
    expect(decodeEntry(['delivery-id', 'first', 'body', 'b', 'delivery-id', 'second'])).toEqual({
      ok: true,
      message: { deliveryId: 'first', body: 'b' },
    });
  });

  it.each([
    [['body', 'b'], 'field delivery-id is missing or empty'],
    [['delivery-id', '', 'body', 'b'], 'field delivery-id is missing or empty'],
    [['delivery-id', 'd'], 'field body is missing'],
    [['delivery-id', 'd', 'body', 'b', 'attributes', '{'], 'field attributes is not JSON'],
    [['delivery-id', 'd', 'body', 'b', 'attributes', '["x"]'], 'field attributes is not a JSON object'],
    [['delivery-id', 'd', 'body', 'b', 'attributes', '{"n":1}'], 'attribute n is not a string'],
  ])('refuses %j: %s', (fields, problem) => {
    expect(decodeEntry(fields)).toEqual({ ok: false, problem });
  });

  it('a dead-letter copy is the original fields, then reason, origin and delivery count', () => {
    const note = { reason: 'poison', originalId: '5-1', deliveryCount: 4, group: 'g', consumer: 'c' };
    expect(deadLetterFields(['body', 'raw'], note)).toEqual([
      'body',
      'raw',
      'dead-reason',
      'poison',
      'dead-original-id',
      '5-1',
      'dead-delivery-count',
      '4',
      'dead-group',
      'g',
      'dead-consumer',
      'c',
    ]);
  });
});
