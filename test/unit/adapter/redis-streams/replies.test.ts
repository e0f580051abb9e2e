/**
 * Reply parsing, on replies recorded from Redis 7.0.15 through ioredis 6 (RESP3 with its default
 * "legacy" mapping: maps as flat arrays), plus the RESP2 and "resp3"-mapping shapes of the same.
 */
import { describe, expect, it } from 'vitest';
import {
  parseAutoClaimReply,
  parseClaimedIds,
  parsePendingEntries,
  parsePendingSummary,
  parseReadGroupReply,
} from '../../../../src/adapter/redis-streams/stream-replies.ts';
import {
  parseConsumersInfo,
  parseGroupsInfo,
  parseStreamInfo,
} from '../../../../src/adapter/redis-streams/xinfo-replies.ts';

const S = 's2';
const ENTRIES = [
  ['1-0', null],
  ['2-0', ['a', '2']],
];
const PARSED_ENTRIES = [
  { id: '1-0', fields: null },
  { id: '2-0', fields: ['a', '2'] },
];

describe('XREADGROUP replies', () => {
  it.each([
    ['RESP3, flat map (as recorded)', [S, ENTRIES]],
    ['RESP2, list of pairs', [[S, ENTRIES]]],
    ['RESP3, object map', { [S]: ENTRIES }],
  ])('%s', (_shape, reply) => {
    expect(parseReadGroupReply(reply, S)).toEqual(PARSED_ENTRIES);
  });

  it('null when BLOCK ran out means no entries', () => {
    expect(parseReadGroupReply(null, S)).toEqual([]);
  });

  it('a reply for another stream is refused with a coded error naming the stream', () => {
    expect(() => parseReadGroupReply(['other', ENTRIES], S)).toThrow(
      /^REDIS_STREAMS_UNEXPECTED_REPLY: expected entries of s2, got .*\(stream s2\)$/,
    );
  });
});

describe('XAUTOCLAIM, XCLAIM and XPENDING replies', () => {
  it('XAUTOCLAIM: cursor, claimed entries, and ids deleted while pending', () => {
    expect(parseAutoClaimReply(['0-0', [['3-0', ['a', '3']]], ['5-0']], S)).toEqual({
      cursor: '0-0',
      entries: [{ id: '3-0', fields: ['a', '3'] }],
      deletedIds: ['5-0'],
    });
  });

  it('XCLAIM JUSTID: the ids claimed', () => {
    expect(parseClaimedIds(['1-0', '4-0'], S)).toEqual(['1-0', '4-0']);
  });

  it.each([
    ['entries pending', [4, '1-0', '5-0', [['c1', '4']]], { count: 4, oldestId: '1-0' }],
    ['nothing pending', [0, null, null, null], { count: 0 }],
  ])('XPENDING summary, %s', (_case, reply, expected) => {
    expect(parsePendingSummary(reply, S)).toEqual(expected);
  });

  it('XPENDING entries: id, consumer, idle, deliveries', () => {
    expect(parsePendingEntries([['1-0', 'c1', 120909, 2]], S)).toEqual([
      { id: '1-0', consumer: 'c1', idleMs: 120_909, deliveryCount: 2 },
    ]);
  });
});

describe('XINFO replies, read by field name', () => {
  const streamInfo = [
    'length',
    3,
    'radix-tree-keys',
    1,
    'radix-tree-nodes',
    2,
    'last-generated-id',
    '5-0',
    'max-deleted-entry-id',
    '3-0',
    'entries-added',
    5,
    'recorded-first-entry-id',
    '2-0',
    'groups',
    2,
    'first-entry',
    ['2-0', ['a', '2']],
    'last-entry',
    ['5-0', ['a', '5']],
  ];

  it.each([
    ['flat (as recorded)', streamInfo],
    ['object map', Object.fromEntries(streamInfo.flatMap((v, i) => (i % 2 ? [] : [[v, streamInfo[i + 1]]])))],
  ])('XINFO STREAM, %s', (_shape, reply) => {
    expect(parseStreamInfo(reply, S)).toEqual({ length: 3, lastGeneratedId: '5-0' });
  });

  it('XINFO GROUPS, with a NULL lag kept as null', () => {
    const reply = [
      ['name', 'g', 'consumers', 1, 'pending', 4, 'last-delivered-id', '5-0', 'entries-read', 5, 'lag', 0],
      [
        'name',
        'g2',
        'consumers',
        0,
        'pending',
        0,
        'last-delivered-id',
        '0-0',
        'entries-read',
        null,
        'lag',
        null,
      ],
    ];
    expect(parseGroupsInfo(reply, S)).toEqual([
      { name: 'g', pending: 4, lastDeliveredId: '5-0', lag: 0 },
      { name: 'g2', pending: 0, lastDeliveredId: '0-0', lag: null },
    ]);
  });

  it('XINFO CONSUMERS as 7.0 sends it, and as 7.2 does (an extra field, another order)', () => {
    expect(parseConsumersInfo([['name', 'c1', 'pending', 4, 'idle', 120860]], S)).toEqual([
      { name: 'c1', pending: 4, idleMs: 120_860 },
    ]);
    expect(parseConsumersInfo([['idle', 5, 'inactive', -1, 'name', 'c2', 'pending', 0]], S)).toEqual([
      { name: 'c2', pending: 0, idleMs: 5, inactiveMs: -1 },
    ]);
  });

  it('a missing field is a coded error that names it', () => {
    expect(() => parseGroupsInfo([['name', 'g', 'pending', 1]], S)).toThrow(
      /^REDIS_STREAMS_UNEXPECTED_REPLY: expected XINFO GROUPS with a last-delivered-id field/,
    );
  });
});
