import { describe, expect, it } from 'vitest';
import { commandError } from '../../../../src/adapter/redis-streams/errors.ts';

describe('redis streams errors', () => {
  const where = { stream: 'queueshift:s', group: 'g', consumer: 'c', ids: ['1-0', '2-0'] };

  it.each([
    ['NOGROUP No such key or consumer group', 'REDIS_STREAMS_GROUP_MISSING'],
    ['ERR no such key', 'REDIS_STREAMS_STREAM_MISSING'],
    ['READONLY You can not write against a read only replica.', 'REDIS_STREAMS_COMMAND_FAILED'],
    ['Connection is closed.', 'REDIS_STREAMS_COMMAND_FAILED'],
  ])('%s → %s, with command, place and cause', (reason, code) => {
    const cause = new Error(reason);
    const error = commandError('XACK', where, cause);
    expect(error).toMatchObject({ code, cause, context: { ...where, command: 'XACK' } });
    expect(error.message).toContain(reason);
    expect(error.message).toMatch(/\(stream queueshift:s, group g, consumer c, ids 1-0,2-0\)$/);
  });
});
