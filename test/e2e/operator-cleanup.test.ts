import type { SQSClient } from '@aws-sdk/client-sqs';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { QueueMigrationStatus } from '../../src/operator/api/status-schema.ts';
import { waitForRollout } from '../env/local-node/e2e-support.ts';
import { sqsClient } from '../env/sqs.ts';
import { required } from '../env/test-environment.ts';
import { waitUntil } from '../env/wait.ts';
import { redisDeadLetters, SqsStragglers } from './support/cleanup-support.ts';
import { pipelineInTestNamespace, SHORT_STAGES, type LivePipeline } from './support/live-pipeline.ts';
import { publishRunReport } from './support/run-report.ts';
import type { SteadyLoad } from './support/steady-load.ts';

/** Light traffic: enough for the gates to have data, little for a shared 2-core machine. */
const RATE = 10;

/** Long enough in `full` step 1 and `cleanup` step 0 for the test to put stragglers into SQS. */
const STAGES = {
  ...SHORT_STAGES,
  full: { bakeTime: '15s', drainWindow: '3s' },
  cleanup: { stabilityWindow: '10s' },
};

const REDRIVEN_REASON = /^moved from SQS DLQ after \d+ receives$/;

async function stageReached(pipeline: LivePipeline, stage: string, step: number): Promise<void> {
  await waitUntil(
    async () => {
      const status = await pipeline.migrationStatus();
      return status?.stage === stage && status.step === step;
    },
    { what: `the migration to reach ${stage} step ${String(step)}`, timeoutMs: 240_000, intervalMs: 250 },
  );
}

/** QUEUE_TYPE and QUEUE_FALLBACK_TYPE of a Deployment's container, as its pods get them. */
async function queueSettings(pipeline: LivePipeline, name: string): Promise<Record<string, string>> {
  const deployment = await pipeline.tools.apps.readNamespacedDeployment({
    name,
    namespace: pipeline.namespace,
  });
  const env = deployment.spec?.template.spec?.containers[0]?.env ?? [];
  return Object.fromEntries(
    env
      .filter((e) => e.name === 'QUEUE_TYPE' || e.name === 'QUEUE_FALLBACK_TYPE')
      .filter((e) => (e.value ?? '') !== '')
      .map((e) => [e.name, e.value ?? '']),
  );
}

/** A pipeline on a queue with a DLQ, its operator, and clients to look behind its back. */
function cleanupPipeline(prefix: string, replicas: number) {
  const redis = required('redis');
  const pipeline = pipelineInTestNamespace(prefix, {
    webhookReplicas: replicas,
    workerReplicas: replicas,
  });
  const streams = new Redis({ host: redis.streams.host, port: redis.streams.port, lazyConnect: true });
  let admin: SQSClient | undefined;
  const state: { stragglers?: SqsStragglers } = {};

  beforeAll(async () => {
    admin = sqsClient(required('sqs'));
    await pipeline.setUp();
    state.stragglers = await SqsStragglers.withDeadLetterQueue(admin, pipeline.queueUrl);
    await pipeline.startOperator();
  }, 300_000);

  afterAll(async () => {
    await pipeline.tearDown();
    await state.stragglers?.deleteDeadLetterQueue();
    await streams.del(pipeline.stream, `${pipeline.stream}:dlq`);
    streams.disconnect();
    admin?.destroy();
  });

  const stragglers = (): SqsStragglers => {
    if (state.stragglers === undefined) throw new Error('the pipeline is not set up');
    return state.stragglers;
  };
  return { pipeline, streams, stragglers };
}

/** Starts the load, and once it flows through SQS, the migration. */
async function migrateUnderLoad(
  pipeline: LivePipeline,
  stages: Record<string, unknown>,
): Promise<SteadyLoad> {
  const load = pipeline.startLoad(RATE);
  await waitUntil(() => load.acceptedCount >= RATE, { what: 'load through SQS', timeoutMs: 30_000 });
  await pipeline.applyMigration({ stages });
  return load;
}

const reasonsOf = (status: QueueMigrationStatus): string[] => (status.history ?? []).map((e) => e.reason);

/** What the sweeps moved into the stream, for the run's report. */
function sweptNote(status: QueueMigrationStatus): string {
  const sweep = status.sweep;
  return `swept ${String(sweep?.movedFromQueue ?? 0)} from SQS and ${String(sweep?.movedFromDeadLetterQueue ?? 0)} from its DLQ into the stream`;
}

describe('cleanup with stragglers in SQS and its DLQ (the queue is kept)', () => {
  const { pipeline, streams, stragglers } = cleanupPipeline('qm-cleanup', 2);

  it(
    'sweeps every straggler into Redis: handled once, or in the Redis DLQ with its reason; the queue stays',
    { timeout: 600_000 },
    async () => {
      const load = await migrateUnderLoad(pipeline, STAGES);

      // Consumers read only Redis from full step 1: what lands in SQS now has no reader but the sweep.
      await stageReached(pipeline, 'full', 1);
      await waitForRollout(pipeline.tools, pipeline.namespace, 'worker', 120_000);
      await stragglers().sendLive(5);
      await stragglers().sendDead('handler failed: malformed payload');
      await stageReached(pipeline, 'cleanup', 0);
      await stragglers().sendLive(5);
      await stragglers().sendDead();

      const status = await pipeline.waitForPhase('Succeeded');
      const run = await pipeline.settleAll([await load.stop(), stragglers().report()]);
      publishRunReport({
        scenario: 'cleanup sweeping stragglers, queue kept',
        ...run,
        history: status.history ?? [],
        notes: [sweptNote(status)],
      });
      expect(run.account.lost).toEqual([]);
      expect(run.account.handledTwice).toEqual([]);
      expect(run.account.refused).toEqual({});
      expect(run.account.accepted).toBe(run.account.sent);

      const letters = await redisDeadLetters(streams, pipeline.stream);
      for (const [deliveryId, reason] of stragglers().dead) {
        expect(letters.get(deliveryId)).toEqual(reason ?? expect.stringMatching(REDRIVEN_REASON));
      }
      // Dead letters never reached a handler: the ledger does not know them.
      expect((await pipeline.ledgerIds()).filter((id) => stragglers().dead.has(id))).toEqual([]);
      expect(status.sweep).toMatchObject({ movedFromQueue: 10, movedFromDeadLetterQueue: 2 });
      expect(await stragglers().depth('queue')).toBe(0);
      expect(await stragglers().depth('deadLetterQueue')).toBe(0);
      expect(status.queueDeletedAt).toBeUndefined();
      expect(reasonsOf(status)).not.toContain('QueueDeleted');
      expect(await queueSettings(pipeline, 'webhook')).toEqual({ QUEUE_TYPE: 'redis' });
      expect(await queueSettings(pipeline, 'worker')).toEqual({ QUEUE_TYPE: 'redis' });
    },
  );
});

describe('cleanup with spec.stages.cleanup.deleteQueue', () => {
  const { pipeline, stragglers } = cleanupPipeline('qm-cleanup-del', 1);

  it(
    'sweeps, records the deletion, deletes the queue (not its DLQ), then succeeds',
    { timeout: 600_000 },
    async () => {
      const load = await migrateUnderLoad(pipeline, {
        ...STAGES,
        cleanup: { stabilityWindow: '10s', deleteQueue: true },
      });
      await stageReached(pipeline, 'cleanup', 0);
      await stragglers().sendLive(3);

      const status = await pipeline.waitForPhase('Succeeded');
      const run = await pipeline.settleAll([await load.stop(), stragglers().report()]);
      publishRunReport({
        scenario: 'cleanup deleting the queue',
        ...run,
        history: status.history ?? [],
        notes: [sweptNote(status)],
      });
      expect(run.account.lost).toEqual([]);
      expect(run.account.handledTwice).toEqual([]);

      expect(await stragglers().depth('queue')).toBe('gone');
      // Gone: the pipeline's tear-down has nothing left to delete.
      pipeline.queueUrl = '';
      expect(await stragglers().depth('deadLetterQueue')).toBe(0);
      expect(status.sweep).toMatchObject({ movedFromQueue: 3 });
      const reasons = reasonsOf(status);
      expect(reasons.slice(-2)).toEqual(['QueueDeleted', 'Succeeded']);
      const deleted = status.history?.find((e) => e.reason === 'QueueDeleted');
      expect(status.queueDeletedAt).toBe(deleted?.at);
    },
  );
});
