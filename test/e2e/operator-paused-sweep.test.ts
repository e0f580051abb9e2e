import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { QueueMigrationStatus } from '../../src/operator/api/status-schema.ts';
import { rolledOut } from '../env/local-node/e2e-support.ts';
import { sqsClient } from '../env/sqs.ts';
import { required } from '../env/test-environment.ts';
import { waitUntil } from '../env/wait.ts';
import { redisDeadLetters, SqsStragglers } from './support/cleanup-support.ts';
import { pipelineInTestNamespace, SHORT_STAGES } from './support/live-pipeline.ts';
import { queueSettingsOf } from './support/queue-settings-watch.ts';

/** A bake long enough to pause in it once the consumers have rolled out on Redis alone. */
const STAGES = { ...SHORT_STAGES, full: { bakeTime: '20s', drainWindow: '3s' } };
const REASON = 'handler failed: malformed payload';
/**
 * One gate, where the sweep matters: dead letters swept from the SQS DLQ while paused are counted
 * in status.sweep, so after the resume they are not taken for new failures. The probes of staging
 * are left out: their round-trip thresholds are not what this test is about on a busy machine.
 */
const ANALYSIS = {
  interval: '1s',
  defaultMetrics: false,
  metrics: [
    {
      name: 'redis-dead-letter-growth',
      redis: 'dead-letter-growth',
      threshold: { operator: '<=', value: 0 },
      stages: ['full', 'cleanup'],
    },
  ],
};

const reasonsOf = (status: QueueMigrationStatus | undefined): string[] =>
  (status?.history ?? []).map((e) => e.reason);

// Pausing holds a migration's progress, not its data safety: once consumers read only Redis, the
// operator's sweep is the only reader of SQS, and it keeps reading while the migration is paused.
describe('a migration paused in full, consumers on Redis alone', () => {
  const pipeline = pipelineInTestNamespace('qm-paused-sweep', { webhookReplicas: 1, workerReplicas: 1 });
  const { streams } = required('redis');
  const redis = new Redis({ host: streams.host, port: streams.port, lazyConnect: true });
  const sqs = sqsClient(required('sqs'));
  let stragglers: SqsStragglers | undefined;

  beforeAll(async () => {
    await pipeline.setUp();
    stragglers = await SqsStragglers.withDeadLetterQueue(sqs, pipeline.queueUrl);
    await pipeline.startOperator();
  }, 300_000);

  afterAll(async () => {
    await pipeline.tearDown();
    await stragglers?.deleteDeadLetterQueue();
    await redis.del(pipeline.stream, `${pipeline.stream}:dlq`);
    redis.disconnect();
    sqs.destroy();
  });

  const setPaused = (paused: boolean): Promise<string> =>
    pipeline.tools.kubectl([
      'patch',
      'qm',
      'live',
      '-n',
      pipeline.namespace,
      '--type=merge',
      `--patch={"spec":{"paused":${String(paused)}}}`,
    ]);
  const generations = async (): Promise<(number | undefined)[]> =>
    Promise.all(
      ['webhook', 'worker'].map(
        async (name) =>
          (await pipeline.tools.apps.readNamespacedDeployment({ name, namespace: pipeline.namespace }))
            .metadata?.generation,
      ),
    );

  it(
    'sweeps what lands in SQS and its DLQ into Redis while paused, handled once, and succeeds once resumed',
    { timeout: 600_000 },
    async () => {
      if (stragglers === undefined) throw new Error('the pipeline is not set up');
      await pipeline.applyMigration({ stages: STAGES, analysis: ANALYSIS });
      // Consumers on Redis alone (full step 1), rolled out: from now on only the sweep reads SQS.
      await waitUntil(
        async () => {
          const worker = await pipeline.tools.apps.readNamespacedDeployment({
            name: 'worker',
            namespace: pipeline.namespace,
          });
          return queueSettingsOf(worker) === 'redis/' && rolledOut(worker);
        },
        { what: 'the worker to read only Redis, rolled out', timeoutMs: 240_000, intervalMs: 250 },
      );
      await setPaused(true);
      const paused = await pipeline.waitForPhase('Paused', 60_000);
      expect(paused).toMatchObject({ stage: 'full', step: 1 });
      const pausedGenerations = await generations();

      await stragglers.sendLive(1);
      await stragglers.sendDead(REASON);
      const swept = await waitUntil(
        async () => {
          const status = await pipeline.migrationStatus();
          const sweep = status?.sweep;
          return sweep?.movedFromQueue === 1 && sweep.movedFromDeadLetterQueue === 1 ? status : undefined;
        },
        { what: 'the sweep of both stragglers while paused', timeoutMs: 60_000, intervalMs: 250 },
      );
      const run = await pipeline.settleAll([stragglers.report()]);
      expect(run.account).toMatchObject({ accepted: 1, handled: 1, lost: [], handledTwice: [] });
      expect(await pipeline.ledgerIds()).toEqual(stragglers.live);
      const [deadId] = stragglers.dead.keys();
      expect((await redisDeadLetters(redis, pipeline.stream)).get(deadId ?? '')).toBe(REASON);

      // Still held: no transition, no Deployment change, the pause's condition in place.
      const held = await pipeline.migrationStatus();
      expect(held).toMatchObject({ phase: 'Paused', stage: 'full', step: 1 });
      expect(reasonsOf(held)).toEqual(reasonsOf(paused));
      expect(reasonsOf(swept)).toEqual(reasonsOf(paused));
      expect(held?.conditions?.find((c) => c.type === 'Paused')).toMatchObject({
        status: 'True',
        reason: 'SpecPaused',
      });
      expect(await generations()).toEqual(pausedGenerations);
      expect([await stragglers.depth('queue'), await stragglers.depth('deadLetterQueue')]).toEqual([0, 0]);

      await setPaused(false);
      const done = await pipeline.waitForPhase('Succeeded');
      expect(reasonsOf(done).slice(reasonsOf(paused).length)).toEqual([
        'Resumed',
        'CleanupStarted',
        'FallbackRemoved',
        'Succeeded',
      ]);
      expect(done.sweep).toMatchObject({ movedFromQueue: 1, movedFromDeadLetterQueue: 1 });
    },
  );
});
