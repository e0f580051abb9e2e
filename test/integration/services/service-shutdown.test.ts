import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { waitUntil } from '../../env/wait.ts';
import { TestQueues } from '../adapter/fixtures/test-queues.ts';
import { exampleDelivery, exampleDeliveries, githubHeaders, send, sendAll } from './fixtures/deliveries.ts';
import { webhookEnv, workerEnv } from './fixtures/pipeline-env.ts';
import { publishedCount } from './fixtures/published-count.ts';
import { ServiceGroup, type ServiceProcess } from './fixtures/service-process.ts';

const SECRET = randomUUID();
const SLOW_HANDLER = fileURLToPath(new URL('./fixtures/handlers/slow-ledger-handler.ts', import.meta.url));

function logged(service: ServiceProcess, message: string): boolean {
  return service.logs().some((line) => line['msg'] === message);
}

describe('graceful shutdown on SIGTERM', () => {
  const services = new ServiceGroup();
  let queues: TestQueues | undefined;

  afterEach(async () => {
    await services.disposeAll();
    await queues?.cleanup();
  });

  it('webhook: a request still uploading is answered 202 and published; new connections are refused; exit 0', async () => {
    queues = await TestQueues.create('redis');
    const webhook = await services.startReady('webhook', {
      ...(await webhookEnv(queues, { queueType: 'redis', secret: SECRET })),
      LOG_LEVEL: 'trace',
    });
    const delivery = exampleDelivery('push');
    const body = Buffer.from(delivery.body);
    const request = http.request(webhook.url('/webhook'), {
      method: 'POST',
      headers: { ...(await githubHeaders(delivery, SECRET)), 'Content-Length': body.length },
    });
    const response = new Promise<number>((resolve, reject) => {
      request.on('response', (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      request.on('error', reject);
    });
    request.write(body.subarray(0, body.length / 2));
    await waitUntil(() => logged(webhook, 'request received'), {
      what: 'the webhook to receive the request',
    });

    webhook.signal('SIGTERM');
    await waitUntil(
      () => logged(webhook, 'shutting down: no new connections; finishing requests in progress'),
      {
        what: 'the webhook to start shutting down',
      },
    );
    request.end(body.subarray(body.length / 2));

    expect(await response).toBe(202);
    const answered = Date.now();
    await expect(fetch(webhook.url('/healthz'))).rejects.toThrow();
    expect(await webhook.exited).toEqual({ code: 0, signal: null });
    // Its connection closed with the answer: the process did not sit out its shutdown grace (5 s).
    expect(Date.now() - answered).toBeLessThan(2_000);
    expect(await publishedCount(queues)).toBe(1);
  });

  it('webhook with WEBHOOK_SHUTDOWN_DELAY: unready at once, still accepting deliveries for the delay, then refusing; exit 0', async () => {
    queues = await TestQueues.create('redis');
    const webhook = await services.startReady('webhook', {
      ...(await webhookEnv(queues, { queueType: 'redis', secret: SECRET })),
      WEBHOOK_SHUTDOWN_DELAY: '2s',
    });
    const signalled = Date.now();
    webhook.signal('SIGTERM');
    await waitUntil(async () => (await fetch(webhook.url('/readyz'))).status === 503, {
      what: 'the webhook to report itself unready',
    });
    // A load balancer that has not yet seen the pod go unready still reaches it.
    expect(await send(webhook.url('/webhook'), exampleDelivery('push'), SECRET)).toBe(202);
    expect(Date.now() - signalled).toBeLessThan(2_000);

    expect(await webhook.exited).toEqual({ code: 0, signal: null });
    expect(Date.now() - signalled).toBeGreaterThanOrEqual(2_000);
    await expect(fetch(webhook.url('/healthz'))).rejects.toThrow();
    expect(await publishedCount(queues)).toBe(1);
  });

  it('worker: handlers in progress finish within the grace and exit 0; the rest is handled by the next worker, once', async () => {
    queues = await TestQueues.create('redis');
    const test = queues;
    const slow = {
      HANDLER_MODULE: SLOW_HANDLER,
      HANDLER_DELAY_MS: '400',
      WORKER_COUNT: '4',
      SHUTDOWN_GRACE: '5s',
    };
    const [webhook, first] = await Promise.all([
      services.startReady('webhook', await webhookEnv(test, { queueType: 'redis', secret: SECRET })),
      services.startReady('worker', { ...(await workerEnv(test)), ...slow }),
    ]);
    const deliveries = exampleDeliveries()
      .filter((d) => d.event !== 'ping')
      .slice(0, 30);
    const statuses = await sendAll(webhook.url('/webhook'), deliveries, SECRET);
    expect([...statuses.values()].filter((status) => status !== 202)).toEqual([]);
    await waitUntil(async () => (await test.ledger()).size >= 4, { what: 'the first handlers to finish' });

    const stopping = Date.now();
    first.signal('SIGTERM');
    expect(await first.exited).toEqual({ code: 0, signal: null });
    expect(Date.now() - stopping).toBeLessThan(5_000);
    expect(
      logged(first, 'shutdown: handlers still running after the grace; their messages are left claimable'),
    ).toBe(false);
    expect((await test.ledger()).size).toBeLessThan(deliveries.length);

    await services.startReady('worker', { ...(await workerEnv(test)), ...slow });
    await waitUntil(async () => (await test.ledger()).size === deliveries.length, {
      what: `all ${deliveries.length} deliveries in the ledger`,
      timeoutMs: 30_000,
    });
    expect([...(await test.ledger()).values()].filter((count) => count !== 1)).toEqual([]);
  });
});
