import { parseConsumersInfo } from '../../../src/adapter/redis-streams/xinfo-replies.ts';
import { withRedis, type RedisConnectionOptions } from '../../env/redis.ts';
import { waitUntil } from '../../env/wait.ts';

export interface GroupConsumer {
  stream: string;
  group: string;
  consumer: string;
}

/**
 * Waits until the server's own XINFO CONSUMERS `idle` of a consumer exceeds `ms`, and returns it.
 * On Redis 7.0 only a delivery resets it: a consumer making empty reads grows idle all the same.
 */
export function idleLongerThan(
  redis: RedisConnectionOptions,
  { stream, group, consumer }: GroupConsumer,
  ms: number,
): Promise<number> {
  return waitUntil(
    () =>
      withRedis(redis, async (client) => {
        const info = parseConsumersInfo(await client.call('XINFO', 'CONSUMERS', stream, group), stream);
        const idleMs = info.find((c) => c.name === consumer)?.idleMs ?? 0;
        return idleMs > ms && idleMs;
      }),
    { what: `consumer ${consumer} of ${stream} to be idle longer than ${ms} ms`, timeoutMs: 10_000 },
  );
}
