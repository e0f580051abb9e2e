import { afterEach, describe, expect, it } from 'vitest';
import type { ReceivedMessage } from '../../../src/adapter/types.ts';
import { required } from '../../env/test-environment.ts';
import { tlsRedisOptions } from '../../env/tls-redis.ts';
import { BackendPool, delivery, receiveCount, testConfig, tlsStreamsRedis } from './redis-streams-support.ts';

describe('redis streams back end over TLS with a least-privilege ACL user', () => {
  const pool = new BackendPool(() => tlsRedisOptions(required('tlsRedis')));
  afterEach(() => pool.cleanup());

  // The user may touch queueshift:* keys only and has neither EVAL nor WAIT: every operation of
  // the back end, the dead-letter stream and maintenance included, must do with stream commands.
  it('round trip, retry, dead letter, stats and maintenance, all within the ACL grant', async () => {
    // testConfig names streams queueshift:test:<uuid>, inside the user's key pattern.
    const config = testConfig({ connection: tlsStreamsRedis(), claimIdleMs: 300 });
    const backend = pool.create(config, { claimIntervalMs: 20 });
    await backend.ping();
    await backend.ensureGroup();
    const [handled, retried, dead] = [delivery(1, { event: 'push' }), delivery(2), delivery(3)];
    for (const message of [handled, retried, dead]) await backend.publish(message);

    const received = await receiveCount(backend, 3);
    const byId = (id: string): ReceivedMessage => {
      const found = received.find((m) => m.deliveryId === id);
      if (!found) throw new Error(`delivery ${id} was not received`);
      return found;
    };
    expect(byId(handled.deliveryId)).toMatchObject({ ...handled, deliveryCount: 1 });
    await backend.keepAlive(received);
    expect(await backend.ack([byId(handled.deliveryId)])).toEqual([]);
    await backend.deadLetter(byId(dead.deliveryId), 'poison');
    await backend.retryLater(byId(retried.deliveryId), 0);
    const [again] = await receiveCount(backend, 1);
    expect(again).toMatchObject({ deliveryId: retried.deliveryId, deliveryCount: 2 });
    expect(await backend.ack(again ? [again] : [])).toEqual([]);

    expect(await backend.maintain()).toMatchObject({ trimmedEntries: 3 });
    expect(await backend.stats()).toMatchObject({
      length: 0,
      backlog: { known: true, value: 0 },
      deadLetterLength: 1,
      activeConsumers: [config.consumerName],
    });
  });
});
