import { randomUUID } from 'node:crypto';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { afterEach, describe, expect, it } from 'vitest';
import type { QueueType } from '../../../src/adapter/config.ts';
import type { BackendKind } from '../../../src/adapter/types.ts';
import { sqsClient } from '../../env/sqs.ts';
import { required } from '../../env/test-environment.ts';
import { waitUntil } from '../../env/wait.ts';
import { TestQueues } from '../adapter/fixtures/test-queues.ts';
import { exampleDeliveries, send, type Delivery } from './fixtures/deliveries.ts';
import { webhookEnv, workerEnv } from './fixtures/pipeline-env.ts';
import { ServiceGroup, type ServiceProcess } from './fixtures/service-process.ts';

const SECRET = randomUUID();
/** Sending lanes: a steady stream of deliveries while the workers roll. */
const LANES = 2;

/** Visible + in flight + delayed: what the operator waits to read 0 before consumers leave SQS. */
async function sqsDepth(queueUrl: string): Promise<number> {
  const client = sqsClient(required('sqs'));
  try {
    const { Attributes = {} } = await client.send(
      new GetQueueAttributesCommand({
        QueueUrl: queueUrl,
        AttributeNames: [
          'ApproximateNumberOfMessages',
          'ApproximateNumberOfMessagesNotVisible',
          'ApproximateNumberOfMessagesDelayed',
        ],
      }),
    );
    return Object.values(Attributes).reduce((sum, count) => sum + Number(count), 0);
  } finally {
    client.destroy();
  }
}

/**
 * What the operator does to the workers during a migration, without Kubernetes: real worker
 * processes rolled one at a time (start the new one, SIGTERM the old one) from `sqs` to `dual` to
 * `redis`, while a real webhook keeps publishing, first to SQS and then to the stream. Every accepted
 * delivery is handled, once.
 */
describe('workers rolled sqs → dual → redis under load', () => {
  const services = new ServiceGroup();
  let queues: TestQueues | undefined;

  afterEach(async () => {
    await services.disposeAll();
    await queues?.cleanup();
  });

  it('handles every delivery exactly once while each worker is replaced', async () => {
    queues = await TestQueues.create('dual');
    const test = queues;
    const worker = async (queueType: QueueType): Promise<ServiceProcess> =>
      services.startReady('worker', { ...(await workerEnv(test)), QUEUE_TYPE: queueType });
    const webhook = async (queueType: BackendKind): Promise<ServiceProcess> =>
      services.startReady('webhook', await webhookEnv(test, { queueType, secret: SECRET }));
    const workers = [await worker('sqs'), await worker('sqs')];
    /** Replaces each worker in turn, starting the new one first, as a rollout with none unavailable. */
    const rollAll = async (queueType: QueueType): Promise<void> => {
      for (const [index, old] of workers.entries()) {
        const fresh = await worker(queueType);
        expect(await old.stop()).toEqual({ code: 0, signal: null });
        workers[index] = fresh;
      }
    };

    const [sqsWebhook, redisWebhook] = await Promise.all([webhook('sqs'), webhook('redis')]);
    // Deliveries go to the SQS webhook until the producers "switch", then to the Redis one.
    let target = sqsWebhook;
    // ping is handled without a ledger entry (only its done mark), so the ledger cannot count it.
    const examples = exampleDeliveries().filter((d) => d.event !== 'ping');
    const statuses = new Map<string, number>();
    let stopped = false;
    const lane = async (): Promise<void> => {
      for (let sent = 0; !stopped; sent += 1) {
        const example = examples[sent % examples.length] as Delivery;
        const delivery = { ...example, deliveryId: randomUUID() };
        statuses.set(delivery.deliveryId, await send(target.url('/webhook'), delivery, SECRET));
      }
    };
    const sending = Promise.all(Array.from({ length: LANES }, lane));
    const handled = async (count: number): Promise<void> => {
      await waitUntil(async () => (await test.ledger()).size >= count, {
        what: `${count} deliveries handled`,
        timeoutMs: 60_000,
      });
    };

    await handled(100);
    await rollAll('dual');
    target = redisWebhook;
    const switchedAt = statuses.size;
    await handled(switchedAt + 100);
    // The operator moves consumers to `redis` only once SQS is empty.
    await waitUntil(async () => (await sqsDepth(test.names.queueUrl)) === 0, { what: 'SQS to be empty' });
    await rollAll('redis');
    await handled(statuses.size + 100);
    stopped = true;
    await sending;

    const accepted = [...statuses].filter(([, status]) => status === 202).map(([id]) => id);
    expect(accepted).toHaveLength(statuses.size);
    await handled(accepted.length);
    await waitUntil(async () => (await test.backlog()) === 0, { what: 'every message acknowledged' });
    const ledger = await test.ledger();
    expect([...ledger.keys()].sort()).toEqual(accepted.sort());
    expect([...ledger.values()].filter((count) => count !== 1)).toEqual([]);
    expect(await test.deadLetters()).toEqual([]);
  });
});
