import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { waitUntil } from '../../env/wait.ts';
import { TestQueues } from '../adapter/fixtures/test-queues.ts';
import { exampleDeliveries, sendAll } from './fixtures/deliveries.ts';
import { webhookEnv, workerEnv } from './fixtures/pipeline-env.ts';
import { ServiceGroup } from './fixtures/service-process.ts';

const SECRET = randomUUID();

describe.each(['redis', 'sqs'] as const)('a %s worker killed with SIGKILL under load', (kind) => {
  const services = new ServiceGroup();
  let queues: TestQueues | undefined;

  afterEach(async () => {
    await services.disposeAll();
    await queues?.cleanup();
  });

  it('loses nothing and handles nothing twice once restarted', async () => {
    queues = await TestQueues.create(kind);
    const test = queues;
    const podName = `worker-${randomUUID()}`;
    const webhook = services.start('webhook', await webhookEnv(test, { queueType: kind, secret: SECRET }));
    const first = services.start('worker', await workerEnv(test, podName));
    await Promise.all([webhook.waitReady(), first.waitReady()]);
    const deliveries = exampleDeliveries().filter((d) => d.event !== 'ping');

    // Deliveries keep arriving while the worker dies and comes back.
    const sending = sendAll(webhook.url('/webhook'), deliveries, SECRET, 4);
    await waitUntil(async () => (await test.ledger()).size >= deliveries.length / 4, {
      what: 'the worker to be in the middle of the load',
    });
    first.signal('SIGKILL');
    expect(await first.exited).toEqual({ code: null, signal: 'SIGKILL' });
    const handledBeforeRestart = (await test.ledger()).size;
    // The same pod name, as a restarted container keeps: its own pending entries come back first.
    const second = services.start('worker', await workerEnv(test, podName));

    const statuses = await sending;
    expect([...statuses.values()].filter((status) => status !== 202)).toEqual([]);
    expect(handledBeforeRestart).toBeLessThan(deliveries.length);
    await waitUntil(async () => (await test.ledger()).size === deliveries.length, {
      what: `all ${deliveries.length} deliveries in the ledger`,
      timeoutMs: 60_000,
    });
    // Deliveries the killed worker handled but never deleted stay hidden until their visibility
    // timeout; the new worker then finds them done and deletes them, so the queue drains.
    await waitUntil(async () => (await test.backlog()) === 0, {
      what: 'the queue to drain, including what the killed worker held',
      timeoutMs: 60_000,
    });
    expect(await second.stop()).toEqual({ code: 0, signal: null });
    const ledger = await test.ledger();
    expect([...ledger.keys()].sort()).toEqual(deliveries.map((d) => d.deliveryId).sort());
    expect([...ledger.values()].filter((count) => count !== 1)).toEqual([]);
    expect(await test.deadLetters()).toEqual([]);
  });
});
