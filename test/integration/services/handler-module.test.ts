import { createHash, randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { deliveryKeys } from '../../../src/adapter/idempotency/keys.ts';
import { waitUntil } from '../../env/wait.ts';
import { TestQueues } from '../adapter/fixtures/test-queues.ts';
import { exampleDelivery, sendAll, type Delivery } from './fixtures/deliveries.ts';
import { requiredSample } from './fixtures/metrics-text.ts';
import { webhookEnv, workerEnv } from './fixtures/pipeline-env.ts';
import { ServiceGroup } from './fixtures/service-process.ts';

const SECRET = randomUUID();
const HANDLER = fileURLToPath(new URL('./fixtures/handlers/recording-handler.ts', import.meta.url));

/** A real example of `event`, with a marker the test handler reacts to. */
function marked(event: string, marker?: string): Delivery {
  const delivery = exampleDelivery(event);
  if (marker === undefined) return delivery;
  return { ...delivery, body: JSON.stringify({ ...JSON.parse(delivery.body), queueshift_test: marker }) };
}

const digest = (body: string): string =>
  createHash('sha256')
    .update(JSON.stringify(JSON.parse(body)))
    .digest('hex');

describe('a handler module (HANDLER_MODULE)', () => {
  const services = new ServiceGroup();
  let queues: TestQueues | undefined;

  afterEach(async () => {
    await services.disposeAll();
    await queues?.cleanup();
  });

  it('takes its events with their payloads; retries and dead letters come from its outcomes; the rest go to the ledger and ping', async () => {
    queues = await TestQueues.create('sqs');
    const test = queues;
    const recordKey = `${test.names.ledgerKey}:records`;
    const [webhook, worker] = await Promise.all([
      services.startReady('webhook', await webhookEnv(test, { queueType: 'sqs', secret: SECRET })),
      services.startReady('worker', {
        ...(await workerEnv(test)),
        HANDLER_MODULE: HANDLER,
        RECORD_KEY: recordKey,
      }),
    ]);
    const issue = marked('issues');
    const retried = marked('issues', 'retry-once');
    const push = marked('push');
    const refused = marked('push', 'dead');
    const pullRequest = marked('pull_request');
    const ping = marked('ping');

    const statuses = await sendAll(
      webhook.url('/webhook'),
      [issue, retried, push, refused, pullRequest, ping],
      SECRET,
    );
    expect([...statuses.values()]).toEqual(Array.from({ length: 6 }, () => 202));

    const records = async (): Promise<Record<string, string>> => test.idempotencyRedis.hgetall(recordKey);
    await waitUntil(
      async () =>
        Object.keys(await records()).length === 3 &&
        (await test.ledger()).size === 1 &&
        (await test.deadLetters()).length === 1 &&
        (await test.idempotencyRedis.exists(deliveryKeys(test.names.keyPrefix, ping.deliveryId).done)) === 1,
      { what: 'every delivery handled by its handler' },
    );
    const recorded = Object.fromEntries(
      Object.entries(await records()).map(([id, text]) => [id, JSON.parse(text) as unknown]),
    );
    expect(recorded).toEqual({
      [issue.deliveryId]: { event: 'issues', digest: digest(issue.body), attempt: 1 },
      [retried.deliveryId]: { event: 'issues', digest: digest(retried.body), attempt: 2 },
      [push.deliveryId]: { event: 'push', digest: digest(push.body), attempt: 1 },
    });
    expect(Object.fromEntries(await test.ledger())).toEqual({ [pullRequest.deliveryId]: 1 });
    expect(await test.deadLetters()).toEqual([
      {
        deliveryId: refused.deliveryId,
        reason: expect.stringContaining('the test handler refuses') as string,
      },
    ]);
    const metrics = await worker.metrics();
    expect(requiredSample(metrics, 'webhook_events_retried_total', { queue_type: 'sqs' })).toBe(1);
    expect(requiredSample(metrics, 'webhook_events_dead_lettered_total', { queue_type: 'sqs' })).toBe(1);
    expect(requiredSample(metrics, 'webhook_events_processed_total', { queue_type: 'sqs' })).toBe(5);
  });
});
