import { withRedis, type RedisConnectionOptions } from '../../env/redis.ts';

/**
 * Sets maxmemory to half of what the server holds now (connections coming and going move
 * used_memory by kilobytes, so "just below" would not stay below): under noeviction it then refuses
 * every write. Returns the previous maxmemory, to restore. Only for a test's own server.
 */
export function maxmemoryBelowUse(redis: RedisConnectionOptions): Promise<string> {
  return withRedis(redis, async (client) => {
    const used = /^used_memory:(\d+)/m.exec(await client.info('memory'))?.[1];
    if (used === undefined) throw new Error('INFO memory has no used_memory');
    const [, previous] = (await client.config('GET', 'maxmemory')) as [string, string];
    await client.config('SET', 'maxmemory', String(Math.floor(Number(used) / 2)));
    return previous;
  });
}
