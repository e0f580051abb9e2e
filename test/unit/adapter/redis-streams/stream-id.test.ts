import { describe, expect, it } from 'vitest';
import {
  compareIds,
  idTimestampMs,
  minId,
  successorId,
} from '../../../../src/adapter/redis-streams/stream-id.ts';

const MAX = '18446744073709551615';

describe('stream entry ids', () => {
  it.each([
    ['1-0', '2-0', -1],
    ['2-0', '1-9', 1],
    ['5-3', '5-10', -1],
    ['7-7', '7-7', 0],
    // Beyond 2^53: compared exactly, not as floating-point numbers.
    [`${MAX}-0`, `${MAX}-1`, -1],
  ])('compareIds(%s, %s) has the sign of %i', (a, b, sign) => {
    expect(Math.sign(compareIds(a, b))).toBe(sign);
  });

  it.each([
    ['0-0', '0-1'],
    ['1526919030474-55', '1526919030474-56'],
    [`5-${MAX}`, '6-0'],
  ])('the successor of %s is %s', (id, next) => {
    expect(successorId(id)).toBe(next);
  });

  it('refuses the successor of the largest id and anything that is not an id', () => {
    expect(() => successorId(`${MAX}-${MAX}`)).toThrow(/largest possible/);
    expect(() => compareIds('1-0', '$')).toThrow(/not a stream entry id: "\$"/);
  });

  it('minId picks the smallest, and nothing from nothing', () => {
    expect(minId(['3-1', '2-9', '3-0'])).toBe('2-9');
    expect(minId([])).toBeUndefined();
  });

  it('the time part of an id is when the entry was added', () => {
    expect(idTimestampMs('1700000000123-4')).toBe(1_700_000_000_123);
  });
});
