import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { deliveryKeys } from '../../../src/adapter/idempotency/keys.ts';
import { waitUntil } from '../../env/wait.ts';
import { TestQueues } from '../adapter/fixtures/test-queues.ts';
import { exampleDeliveries, sendAll } from './fixtures/deliveries.ts';
import { sampleValue } from './fixtures/metrics-text.ts';
import { webhookEnv, workerEnv } from './fixtures/pipeline-env.ts';
import { ServiceGroup } from './fixtures/service-process.ts';

const PIPELINES = [
  { name: 'sqs', webhook: 'sqs', worker: 'sqs' },
  { name: 'redis', webhook: 'redis', worker: 'redis' },
  { name: 'webhook sqs, worker dual', webhook: 'sqs', worker: 'dual' },
] as const;

describe.each(PIPELINES)(
  'every @octokit/webhooks-examples payload through the services: $name',
  (pipeline) => {
    const services = new ServiceGroup();
    let queues: TestQueues | undefined;

    afterEach(async () => {
      await services.disposeAll();
      await queues?.cleanup();
    });

    it('is accepted with 202 and handled exactly once; ping is marked done without a ledger entry', async () => {
      queues = await TestQueues.create(pipeline.worker);
      const test = queues;
      const secret = randomUUID();
      const [webhook, worker] = await Promise.all([
        services.startReady('webhook', await webhookEnv(test, { queueType: pipeline.webhook, secret })),
        services.startReady('worker', await workerEnv(test)),
      ]);
      const deliveries = exampleDeliveries();
      const pings = deliveries.filter((d) => d.event === 'ping').map((d) => d.deliveryId);
      const others = deliveries.filter((d) => d.event !== 'ping').map((d) => d.deliveryId);
      expect(others.length).toBeGreaterThan(300);

      const statuses = await sendAll(webhook.url('/webhook'), deliveries, secret);
      expect([...statuses.values()].filter((status) => status !== 202)).toEqual([]);

      const pingsDone = async (): Promise<boolean> => {
        const marks = await Promise.all(
          pings.map((id) => test.idempotencyRedis.exists(deliveryKeys(test.names.keyPrefix, id).done)),
        );
        return marks.every((mark) => mark === 1);
      };
      await waitUntil(async () => (await test.ledger()).size === others.length && (await pingsDone()), {
        what: `${others.length} ledger entries and ${pings.length} pings marked done`,
        timeoutMs: 60_000,
      });
      const published = pipeline.webhook;
      const metrics = await worker.metrics();
      expect(sampleValue(metrics, 'webhook_events_processed_total', { queue_type: published })).toBe(
        deliveries.length,
      );
      expect(await worker.stop()).toEqual({ code: 0, signal: null });

      const ledger = await test.ledger();
      expect([...ledger.keys()].sort()).toEqual([...others].sort());
      expect([...ledger.values()].filter((count) => count !== 1)).toEqual([]);
      expect(await test.deadLetters()).toEqual([]);
      expect(await test.backlog()).toBe(0);
      expect(
        sampleValue(await webhook.metrics(), 'webhook_events_published_total', { queue_type: published }),
      ).toBe(deliveries.length);
    });
  },
);
