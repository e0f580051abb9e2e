import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ConsumerConfig } from '../../../src/adapter/config.ts';
import type { Handler } from '../../../src/adapter/consumer/handler.ts';
import { required } from '../../env/test-environment.ts';
import { waitUntil } from '../../env/wait.ts';
import { CallCounter, startConsumer, type RunningConsumer } from './fixtures/consumer-harness.ts';
import { publishAll } from './fixtures/publish.ts';
import { TcpProxy } from './fixtures/tcp-proxy.ts';
import { TestQueues } from './fixtures/test-queues.ts';

/**
 * The idempotency store cut off from a running consumer (its connection reset and refused, through
 * a proxy, so the shared server keeps running). The store gates every delivery, so an outage must
 * neither lose a success nor spend the deliveries of messages that arrive meanwhile.
 */
describe('consumer with its idempotency store cut off', () => {
  let queues: TestQueues;
  let proxy: TcpProxy;
  let consumer: RunningConsumer | undefined;
  const calls = new CallCounter();

  beforeEach(async () => {
    queues = await TestQueues.create('sqs');
    const { idempotency } = required('redis');
    proxy = await TcpProxy.start(idempotency);
  });

  afterEach(async () => {
    proxy.restore();
    await consumer?.stop();
    consumer = undefined;
    await proxy.close();
    await queues.cleanup();
  });

  function consumeThroughProxy(handler: Handler): RunningConsumer {
    const config: ConsumerConfig = queues.consumerConfig();
    const idempotency = {
      ...config.idempotency,
      connection: {
        endpoint: { kind: 'standalone' as const, address: { host: '127.0.0.1', port: proxy.port } },
      },
    };
    consumer = startConsumer({ ...config, idempotency }, async (message, ctx) => {
      calls.record(message.deliveryId);
      return handler(message, ctx);
    });
    return consumer;
  }

  const failureMessages = (running: RunningConsumer): string[] => running.log.failures.map((f) => f.message);

  it('retries the done mark of a succeeded handler until the store is back, and never releases its lease', async () => {
    const id = randomUUID();
    let finish = (): void => undefined;
    const mayFinish = new Promise<void>((resolve) => (finish = resolve));
    const running = consumeThroughProxy(async () => {
      await mayFinish;
      return { kind: 'ack' };
    });
    await publishAll(queues.producerConfigs(), [id]);
    await waitUntil(() => calls.of(id) === 1, { what: 'the handler to start' });

    proxy.cutConnections();
    finish();
    await waitUntil(() => failureMessages(running).some((m) => m.includes('could not write the done mark')), {
      what: 'a failed done mark reported',
    });
    expect(running.log.count('acked', id)).toBe(0);
    expect(running.log.count('retried', id)).toBe(0);

    proxy.restore();
    await waitUntil(() => running.log.count('acked', id) === 1, {
      what: 'the delivery acknowledged after the outage',
    });
    expect(running.log.count('done-marked', id)).toBe(1);
    expect(await queues.idempotencyRedis.exists(`${queues.names.keyPrefix}{${id}}:done`)).toBe(1);
    expect(calls.of(id)).toBe(1);
    expect(running.log.count('retried', id)).toBe(0);
  });

  it('pauses fetching while the store is down instead of spending deliveries, then handles the message once', async () => {
    const id = randomUUID();
    proxy.cutConnections();
    const running = consumeThroughProxy(() => Promise.resolve({ kind: 'ack' }));
    await publishAll(queues.producerConfigs(), [id]);

    await waitUntil(() => failureMessages(running).some((m) => m.includes('fetching paused')), {
      what: 'fetching paused on the store outage',
      timeoutMs: 40_000,
    });
    expect(calls.of(id)).toBe(0);

    proxy.restore();
    await waitUntil(() => running.log.count('acked', id) === 1, {
      what: 'the delivery handled after the outage',
    });
    expect(calls.of(id)).toBe(1);
    expect(running.log.count('dead-lettered', id)).toBe(0);
    expect(running.log.count('received', id)).toBeLessThanOrEqual(queues.sqsConfig().maxDeliveries);
  });
});
