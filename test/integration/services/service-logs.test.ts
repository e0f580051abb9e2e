import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { tlsRedisOptions } from '../../env/tls-redis.ts';
import { required } from '../../env/test-environment.ts';
import { waitUntil } from '../../env/wait.ts';
import { TestQueues } from '../adapter/fixtures/test-queues.ts';
import { exampleDelivery, send, sendAll } from './fixtures/deliveries.ts';
import { requiredSample } from './fixtures/metrics-text.ts';
import { AWS_SECRET_ACCESS_KEY, webhookEnv, workerEnv, type Env } from './fixtures/pipeline-env.ts';
import { ServiceGroup } from './fixtures/service-process.ts';

/** The TLS Redis with its ACL user and password, as the stream back end. */
function tlsStreamEnv(stream: string): Env {
  const tls = required('tlsRedis');
  return {
    REDIS_ADDRESS: `${tls.host}:${tls.port}`,
    REDIS_USERNAME: tls.username,
    REDIS_PASSWORD: tls.password,
    REDIS_TLS_ENABLED: 'true',
    REDIS_TLS_CA_FILE: tls.caFile,
    REDIS_TLS_CERT_FILE: tls.certFile,
    REDIS_TLS_KEY_FILE: tls.keyFile,
    REDIS_STREAM_NAME: stream,
  };
}

describe('secrets in logs', () => {
  const services = new ServiceGroup();
  let queues: TestQueues | undefined;
  // The ACL user may only touch keys under queueshift:.
  const stream = `queueshift:service-logs:${randomUUID()}`;

  afterEach(async () => {
    await services.disposeAll();
    await queues?.cleanup();
    const redis = new Redis(tlsRedisOptions(required('tlsRedis')));
    await redis.del(stream, `${stream}:dlq`);
    redis.disconnect();
  });

  it('the webhook secret, the Redis password and the AWS secret key appear in no line, at any level', async () => {
    queues = await TestQueues.create('dual');
    const test = queues;
    const secret = `webhook-secret-${randomUUID()}`;
    const trace = { LOG_LEVEL: 'trace' };
    const [webhook, worker] = await Promise.all([
      services.startReady('webhook', {
        ...(await webhookEnv(test, { queueType: 'redis', fallback: 'sqs', secret })),
        ...tlsStreamEnv(stream),
        ...trace,
      }),
      services.startReady('worker', { ...(await workerEnv(test)), ...tlsStreamEnv(stream), ...trace }),
    ]);
    const deliveries = ['push', 'issues', 'ping', 'pull_request'].map((event) => exampleDelivery(event));

    const statuses = await sendAll(webhook.url('/webhook'), deliveries, secret);
    expect(await send(webhook.url('/webhook'), exampleDelivery('push'), `not-${secret}`)).toBe(401);
    await waitUntil(async () => (await test.ledger()).size === 3, { what: 'the deliveries to be handled' });
    // Through the TLS Redis with its password, not through the fallback.
    expect(
      requiredSample(await webhook.metrics(), 'webhook_events_published_total', { queue_type: 'redis' }),
    ).toBe(deliveries.length);
    expect(await Promise.all([webhook.stop(), worker.stop()])).toEqual([
      { code: 0, signal: null },
      { code: 0, signal: null },
    ]);
    // A refused configuration prints its problems; they name variables, never values.
    const refused = services.start('webhook', {
      ...(await webhookEnv(test, { queueType: 'redis', secret })),
      ...tlsStreamEnv(stream),
      PORT: 'not-a-port',
    });
    expect(await refused.exited).toEqual({ code: 2, signal: null });

    expect([...statuses.values()]).toEqual([202, 202, 202, 202]);
    const output = services.output();
    expect(output.some((line) => line.includes('"level":"trace"'))).toBe(true);
    expect(output.some((line) => line.includes('"x-hub-signature-256":"[REDACTED]"'))).toBe(true);
    expect(output.some((line) => line.startsWith('invalid configuration: PORT:'))).toBe(true);
    for (const value of [secret, required('tlsRedis').password, AWS_SECRET_ACCESS_KEY]) {
      expect(output.filter((line) => line.includes(value))).toEqual([]);
    }
  });
});
