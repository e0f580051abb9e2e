/**
 * A stream Redis over its maxmemory (noeviction): every write is refused, and so is any command
 * queued in a MULTI. That is when the operator most needs the stream's figures and a working
 * ensureGroup, so both must keep working. The server is the test's own: the shared ones must not
 * run out of memory.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RedisStreamsConfig } from '../../../src/adapter/config.ts';
import { LOOPBACK } from '../../env/ports.ts';
import { PrivateRedis } from '../services/fixtures/private-redis.ts';
import { maxmemoryBelowUse } from './below-memory-use.ts';
import { BackendPool, delivery, receiveCount, testConfig } from './redis-streams-support.ts';

let server: PrivateRedis;
let pool: BackendPool;

beforeEach(async () => {
  server = await PrivateRedis.start();
  pool = new BackendPool(() => ({ host: LOOPBACK, port: server.port }));
});

afterEach(async () => {
  try {
    await pool.cleanup();
  } finally {
    await server.dispose();
  }
});

function privateConfig(): RedisStreamsConfig {
  return testConfig({
    connection: { endpoint: { kind: 'standalone', address: { host: LOOPBACK, port: server.port } } },
  });
}

const overTheLimit = (): Promise<string> => maxmemoryBelowUse({ host: LOOPBACK, port: server.port });

describe('redis streams back end over maxmemory', () => {
  it('stats still read, with the figures of before, although the server refuses writes', async () => {
    const config = privateConfig();
    const backend = pool.create(config);
    await backend.ensureGroup();
    for (let i = 0; i < 3; i++) await backend.publish(delivery(i));
    await receiveCount(backend, 1);
    await overTheLimit();

    await expect(backend.publish(delivery(3))).rejects.toThrow(/OOM command not allowed/);
    expect(await backend.stats()).toMatchObject({
      length: 3,
      lag: { known: true, value: 2 },
      pending: 1,
      backlog: { known: true, value: 3 },
      deadLetterLength: 0,
      activeConsumers: [config.consumerName],
    });
  });

  it('ensureGroup passes when the group exists, and still fails with OOM when it does not', async () => {
    const config = privateConfig();
    await pool.create(config).ensureGroup();
    await overTheLimit();

    await expect(pool.create(config).ensureGroup()).resolves.toBeUndefined();
    await expect(pool.create({ ...config, group: 'not-created' }).ensureGroup()).rejects.toMatchObject({
      code: 'REDIS_STREAMS_COMMAND_FAILED',
      message: expect.stringMatching(/^REDIS_STREAMS_COMMAND_FAILED: XGROUP CREATE failed: OOM/) as string,
    });
  });
});
