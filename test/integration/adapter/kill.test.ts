import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { WorkerPoolConfig } from '../../../src/adapter/config.ts';
import { required } from '../../env/test-environment.ts';
import { waitUntil } from '../../env/wait.ts';
import { ConsumerProcess } from './fixtures/consumer-process-handle.ts';
import type { KillPoint, ProcessSpec } from './fixtures/consumer-process.ts';
import { publishAll } from './fixtures/publish.ts';
import { TestQueues } from './fixtures/test-queues.ts';

/**
 * Worker processes that die or stall at the worst moments. Whatever happens to a process, a fresh
 * one handles every message, and the effects written through the commit API happen exactly once.
 */
describe.each(['redis', 'sqs'] as const)('consumer processes under faults: %s', (kind) => {
  let queues: TestQueues;
  const processes: ConsumerProcess[] = [];

  beforeEach(async () => {
    queues = await TestQueues.create(kind);
  });

  afterEach(async () => {
    // Resumes a frozen process before killing it: nothing is left stopped on a shared machine.
    await Promise.all(processes.splice(0).map((child) => child.dispose()));
    await queues.cleanup();
  });

  function spec(
    options: Omit<ProcessSpec, 'consumer' | 'ledger'> & { workers?: Partial<WorkerPoolConfig> },
  ): ProcessSpec {
    const { idempotency } = required('redis');
    const { workers, ...rest } = options;
    return {
      // A second consumer name per process: a restarted pod comes back under a new name.
      consumer: queues.consumerConfig({ consumerName: `kill-${randomUUID()}`, ...(workers && { workers }) }),
      ledger: {
        host: idempotency.host,
        port: idempotency.port,
        ledgerKey: queues.names.ledgerKey,
        effectsKey: `${queues.names.ledgerKey}:effects`,
      },
      ...rest,
    };
  }

  async function start(options: Parameters<typeof spec>[0]): Promise<ConsumerProcess> {
    const child = await ConsumerProcess.start(spec(options));
    processes.push(child);
    return child;
  }

  /** Delivery id → how often the handler's external effect (outside the commit) ran. */
  async function effects(): Promise<Map<string, number>> {
    const raw = await queues.idempotencyRedis.hgetall(`${queues.names.ledgerKey}:effects`);
    return new Map(Object.entries(raw).map(([id, count]) => [id, Number(count)]));
  }

  /** A fresh process finishes everything; the commit ledger holds each delivery exactly once. */
  async function recoverAndCheck(ids: readonly string[]): Promise<ConsumerProcess> {
    const fresh = await start({});
    await waitUntil(async () => (await queues.ledger()).size === ids.length, {
      what: `all ${ids.length} deliveries in the ledger after the restart`,
    });
    await waitUntil(async () => (await queues.backlog()) === 0, { what: 'every message acknowledged' });
    const ledger = await queues.ledger();
    expect([...ledger.keys()].sort()).toEqual([...ids].sort());
    expect([...ledger.entries()].filter(([, count]) => count !== 1)).toEqual([]);
    return fresh;
  }

  const deliveries = (n: number): string[] => Array.from({ length: n }, () => randomUUID());

  it('killed after the external effect and before the done mark: the delivery runs again, its commit lands once', async () => {
    const ids = deliveries(20);
    const victim = ids[0] ?? '';
    const dying = await start({ kill: { at: 'after-effect' satisfies KillPoint, deliveryId: victim } });
    await publishAll(queues.producerConfigs(), ids);
    await dying.killedItself();
    expect((await queues.ledger()).has(victim)).toBe(false);
    expect((await effects()).get(victim)).toBe(1);

    await recoverAndCheck(ids);
    // Outside the commit the effect is at-least-once: the delivery id is its idempotency key.
    expect((await effects()).get(victim)).toBe(2);
  });

  it('killed after the done mark and before the acknowledgement: the delivery is acknowledged without running again', async () => {
    const ids = deliveries(20);
    const victim = ids[0] ?? '';
    const dying = await start({ kill: { at: 'after-done-mark', deliveryId: victim } });
    await publishAll(queues.producerConfigs(), ids);
    await dying.killedItself();
    expect(dying.ids('done-marked')).toContain(victim);
    expect(dying.ids('acked')).not.toContain(victim);

    const fresh = await recoverAndCheck(ids);
    expect(fresh.ids('handler-started')).not.toContain(victim);
    expect(fresh.reports).toContainEqual({ event: 'skipped', deliveryId: victim, reason: 'done' });
    expect((await effects()).get(victim)).toBe(1);
  });

  it('killed with messages prefetched but not started: they are handled by the next process', async () => {
    const ids = deliveries(10);
    const dying = await start({
      kill: { at: 'with-prefetched' },
      handlerMs: 200,
      workers: { count: 1, prefetch: 1 },
    });
    await publishAll(queues.producerConfigs(), ids);
    await dying.killedItself();
    const unstarted = dying.ids('received').filter((id) => !dying.ids('handler-started').includes(id));
    expect(unstarted.length).toBeGreaterThan(0);

    const fresh = await recoverAndCheck(ids);
    expect(fresh.ids('handler-started')).toEqual(expect.arrayContaining(unstarted));
  });

  it('a frozen consumer: its messages are taken over and handled once; woken, it does not handle them again', async () => {
    const ids = deliveries(4);
    const frozen = await start({ handlerMs: 3_000, workers: { count: 1, prefetch: 1 } });
    await publishAll(queues.producerConfigs(), ids);
    await frozen.waitFor((r) => r.event === 'handler-started', 'the first handler to start');
    await waitUntil(() => frozen.ids('received').length === 2, { what: 'a second message held unstarted' });
    const [running, waiting] = frozen.ids('received') as [string, string];
    frozen.freeze();
    try {
      // Longer than the lease and the claim idle time / visibility timeout: everything it held is exposed.
      const takeover = await start({});
      await waitUntil(async () => (await queues.ledger()).size === ids.length, {
        what: 'every delivery handled while the first consumer is frozen',
      });
      expect(takeover.ids('handler-started')).toEqual(expect.arrayContaining([running, waiting]));
    } finally {
      frozen.resume();
    }
    await frozen.waitFor(
      (r) => r.event === 'skipped' && r.deliveryId === waiting,
      'the woken consumer to find its unstarted message done',
    );
    await frozen.waitFor(
      (r) => r.event === 'handled' && r.deliveryId === running,
      'the woken consumer to settle its interrupted handler',
    );
    expect(frozen.ids('handler-started')).toEqual([running]);
    expect(frozen.reports).toContainEqual({ event: 'skipped', deliveryId: waiting, reason: 'done' });
    const ledger = await queues.ledger();
    expect([...ledger.values()]).toEqual([1, 1, 1, 1]);
  });
});
