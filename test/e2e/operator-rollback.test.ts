import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { QueueMigrationStatus } from '../../src/operator/api/status-schema.ts';
import { MOVER_CONSUMER } from '../../src/operator/drain/redis-movers.ts';
import { required } from '../env/test-environment.ts';
import { waitUntil } from '../env/wait.ts';
import { TcpProxy } from '../integration/adapter/fixtures/tcp-proxy.ts';
import type { DeliveryAccount } from './support/delivery-ledger.ts';
import { HELD_CANARY } from './support/fault-scenario.ts';
import { pipelineInTestNamespace, SHORT_STAGES, type LivePipeline } from './support/live-pipeline.ts';
import { QueueSettingsWatch } from './support/queue-settings-watch.ts';
import { abortMigration, HangingDownstream, StreamView } from './support/rollback-support.ts';
import { publishRunReport } from './support/run-report.ts';

/** Deliveries per second; light, since the machine runs other tests at the same time. */
const RATE = Number(process.env['QUEUESHIFT_ROLLBACK_RATE'] ?? 30);
const GROUP = 'workers';

/** The rollback's transitions, in order, from its start to its end. */
function rollbackSteps(status: QueueMigrationStatus): string[] {
  const reasons = (status.history ?? []).map((h) => h.reason);
  return reasons.slice(reasons.indexOf('RollbackStarted'));
}

function expectEveryDeliveryHandledOnce(account: DeliveryAccount): void {
  expect(account.lost).toEqual([]);
  expect(account.handledTwice).toEqual([]);
  expect(account.refused).toEqual({});
  expect(account.accepted).toBe(account.sent);
}

/** A live pipeline in a namespace of its own, with its operator running, for one scenario. */
function livePipeline(
  prefix: string,
  options: { workerEnv?: ReturnType<HangingDownstream['workerEnv']> } = {},
) {
  const pipeline = pipelineInTestNamespace(prefix, {
    // The staging probes look for their done marks where the workers keep them.
    ...(options.workerEnv !== undefined && { workerEnv: options.workerEnv }),
  });
  const stream = new StreamView(required('redis'), pipeline.stream, GROUP);
  beforeAll(async () => {
    await pipeline.setUp();
    await pipeline.startOperator();
  }, 300_000);
  afterAll(async () => {
    stream.close();
    await pipeline.tearDown();
    process.stderr.write(`[rollback] operator log: ${pipeline.workDir}/operator.log\n`);
  });
  return { pipeline, stream, namespace: pipeline.namespace };
}

/** Waits until the migration's status satisfies `reached`; returns that status. */
function waitForStatus(
  pipeline: LivePipeline,
  what: string,
  reached: (status: QueueMigrationStatus) => boolean,
): Promise<QueueMigrationStatus> {
  return waitUntil(
    async () => {
      const status = await pipeline.migrationStatus();
      return status !== undefined && reached(status) ? status : undefined;
    },
    { what, timeoutMs: 240_000, intervalMs: 500 },
  );
}

describe('a rollback from canary under live load', () => {
  const { pipeline, stream, namespace } = livePipeline('qm-rb-canary');

  it(
    'removes the canary and puts producers back on SQS before consumers leave Redis; every delivery handled once',
    { timeout: 600_000 },
    async () => {
      const load = pipeline.startLoad(RATE);
      await pipeline.applyMigration({ stages: HELD_CANARY });
      await waitForStatus(pipeline, 'the canary step', (s) => s.stage === 'canary');
      // Deliveries in flight in both queues: the canary publishes to Redis, the producers to SQS.
      await waitUntil(async () => (await stream.length()) >= RATE, {
        what: 'the canary to carry part of the load into Redis',
        timeoutMs: 120_000,
      });
      const watch = await QueueSettingsWatch.start(required('kube'), namespace, [
        'webhook',
        'worker',
        'webhook-canary',
      ]);
      watch.reset();

      await abortMigration(pipeline);
      const status = await pipeline.waitForPhase('RolledBack');
      watch.stop();

      const run = await pipeline.settle(load);
      publishRunReport({
        scenario: `rollback from canary at ${String(RATE)}/s`,
        ...run,
        history: status.history ?? [],
      });

      expect(watch.changes).toEqual(['webhook-canary deleted', 'webhook sqs/', 'worker sqs/']);
      expect(rollbackSteps(status)).toEqual([
        'RollbackStarted',
        'RollbackProducersToOriginal',
        'RollbackDrainRedis',
        'RollbackConsumersToOriginal',
        'RolledBack',
      ]);
      expectEveryDeliveryHandledOnce(run.account);
    },
  );
});

describe('a rollback from full under live load', () => {
  const { pipeline, stream, namespace } = livePipeline('qm-rb-full');

  it(
    'puts consumers on both queues first, then producers on SQS, then consumers back; every delivery handled once',
    { timeout: 600_000 },
    async () => {
      const load = pipeline.startLoad(RATE);
      await pipeline.applyMigration({
        stages: { ...SHORT_STAGES, full: { bakeTime: '10m', drainWindow: '3s' } },
      });
      await waitForStatus(
        pipeline,
        'consumers to read only Redis',
        (s) => s.stage === 'full' && s.step === 1,
      );
      const watch = await QueueSettingsWatch.start(required('kube'), namespace, ['webhook', 'worker']);
      watch.reset();
      const published = await stream.length();

      await abortMigration(pipeline);
      const status = await pipeline.waitForPhase('RolledBack');
      watch.stop();

      const run = await pipeline.settle(load);
      publishRunReport({
        scenario: `rollback from full at ${String(RATE)}/s`,
        ...run,
        history: status.history ?? [],
        notes: [`${String(published)} entries in the stream when aborted`],
      });

      expect(published).toBeGreaterThan(0);
      expect(watch.changes).toEqual(['worker dual/', 'webhook sqs/', 'worker sqs/']);
      expect(rollbackSteps(status)).toEqual([
        'RollbackStarted',
        'RollbackConsumersToDual',
        'RollbackProducersToOriginal',
        'RollbackDrainRedis',
        'RollbackConsumersToOriginal',
        'RolledBack',
      ]);
      expectEveryDeliveryHandledOnce(run.account);
    },
  );
});

describe('a rollback whose consumers cannot drain Redis', () => {
  const downstream = new HangingDownstream();
  const { pipeline, stream } = livePipeline('qm-rb-stuck', {
    workerEnv: [
      ...downstream.workerEnv(),
      { name: 'WORKER_COUNT', value: '4' },
      // Stalled handlers stay stalled (no timeout, no dead letter) until the downstream recovers.
      { name: 'HANDLER_TIMEOUT', value: '10m' },
      { name: 'SHUTDOWN_GRACE', value: '2s' },
      // What a replaced worker left pending is claimable after this (and by the operator's mover).
      { name: 'REDIS_CLAIM_IDLE', value: '5s' },
    ],
  });
  let sqsPath: TcpProxy | undefined;

  afterAll(async () => {
    downstream.recover();
    await sqsPath?.close();
  });

  it(
    'has the operator move the entries to SQS, survives a SIGKILL mid-move, and loses nothing',
    { timeout: 600_000 },
    async () => {
      const sqs = required('sqs');
      const emulator = new URL(sqs.endpoint);
      // The operator reaches SQS through this proxy (the pipeline's pods do not): cutting it stalls
      // the mover's sends while it holds entries it read.
      const proxy = await TcpProxy.start({ host: emulator.hostname, port: Number(emulator.port) });
      sqsPath = proxy;
      const load = pipeline.startLoad(RATE);
      await pipeline.applyMigration({
        stages: { ...SHORT_STAGES, full: { bakeTime: '10m', drainWindow: '3s' } },
        sqs: {
          queueUrl: pipeline.queueUrl,
          region: sqs.region,
          endpoint: `http://127.0.0.1:${String(proxy.port)}`,
        },
        rollback: { drainTimeout: '5s' },
      });
      await waitForStatus(
        pipeline,
        'consumers to read only Redis',
        (s) => s.stage === 'full' && s.step === 1,
      );

      downstream.hang();
      proxy.cutConnections();
      await abortMigration(pipeline);
      await waitUntil(async () => (await stream.pendingOf(MOVER_CONSUMER)) > 0, {
        what: 'the mover to hold entries it read and could not send yet',
        timeoutMs: 180_000,
        intervalMs: 200,
      });
      const held = await stream.pendingOf(MOVER_CONSUMER);
      await pipeline.operator?.kill('SIGKILL');
      proxy.restore();
      await pipeline.operator?.start();

      // The next operator moves what the killed one held, and the rest, while consumers stay stuck.
      await waitUntil(async () => (await stream.pendingOf(MOVER_CONSUMER)) === 0, {
        what: 'the restarted operator to move the entries the killed one held',
        timeoutMs: 120_000,
      });
      const moving = await waitForStatus(
        pipeline,
        'the restarted operator to count its moves',
        (s) => (s.rollback?.drain?.moved ?? 0) > 0,
      );
      expect(moving.phase).toBe('RollingBack');
      expect(moving.rollback?.step).toBe('drain-redis');

      downstream.recover();
      const status = await pipeline.waitForPhase('RolledBack');
      const run = await pipeline.settle(load);
      publishRunReport({
        scenario: `rollback with stuck consumers at ${String(RATE)}/s`,
        ...run,
        history: status.history ?? [],
        notes: [
          `operator SIGKILLed while its mover held ${String(held)} entries; the restarted one moved ${String(status.rollback?.drain?.moved)} to SQS`,
        ],
      });
      expect(held).toBeGreaterThan(0);
      // Counted by the restarted operator alone: what the killed one held, and what came after.
      expect(status.rollback?.drain?.moved).toBeGreaterThanOrEqual(held);
      expect(rollbackSteps(status).filter((r) => r === 'RollbackMoverStarted')).toHaveLength(1);
      expect(status.rollback?.drain?.moverStartedAt).toBeDefined();
      expectEveryDeliveryHandledOnce(run.account);
    },
  );
});
