import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitUntil } from '../env/wait.ts';
import { pipelineInTestNamespace } from './support/live-pipeline.ts';
import { publishRunReport } from './support/run-report.ts';

const RATE = 20;

// A consumer rollout that never becomes available: the workers carry a setting only the Redis
// path reads (REDIS_BLOCK_DURATION=banana, ignored while they read SQS alone). Once `dual` gives
// them Redis, every new pod exits with code 2 naming the variable and the local node shows it in
// CrashLoopBackOff; the old pods keep reading SQS, since the rollout never removes an available
// pod first. The rollout-health gate must fail and roll everything back to the recorded originals.
describe('a consumer rollout that never becomes available', () => {
  const pipeline = pipelineInTestNamespace('qm-badroll', {
    workerReplicas: 1,
    webhookReplicas: 1,
    workerEnv: [{ name: 'REDIS_BLOCK_DURATION', value: 'banana' }],
  });
  const { namespace, tools } = pipeline;

  beforeAll(async () => {
    await pipeline.setUp();
    await pipeline.startOperator();
  });

  afterAll(async () => {
    await pipeline.tearDown();
  });

  it(
    'fails the rollout gate in dual and rolls back to the originals, losing nothing',
    { timeout: 300_000 },
    async () => {
      const load = await pipeline.startFlowingLoad(RATE);
      await pipeline.applyMigration();

      const status = await pipeline.waitForPhase('RolledBack', 180_000);
      const run = await pipeline.settle(load);
      publishRunReport({
        scenario: 'consumer rollout never available',
        ...run,
        history: status.history ?? [],
      });

      expect(status.rollback?.reason).toMatch(/gate failed: Deployment worker: pods in CrashLoopBackOff/);
      const stepFailures = await tools.core.listNamespacedEvent({
        namespace,
        fieldSelector: 'reason=RollbackStepFailing',
      });
      expect(stepFailures.items.map((e) => e.message)).toEqual([]);
      // Only the current template's pods judge a rollout: the broken template's pods, crash-looping
      // while the original one replaces them, fail no step of the way back.
      expect((status.history ?? []).map((h) => h.reason)).toEqual([
        'DualStarted',
        'RollbackStarted',
        'RollbackProducersToOriginal',
        'RollbackDrainRedis',
        'RollbackConsumersToOriginal',
        'RolledBack',
      ]);
      // The workers run their original template again: SQS only, and no pod of the broken one left.
      const worker = await tools.apps.readNamespacedDeployment({ name: 'worker', namespace });
      const env = worker.spec?.template.spec?.containers[0]?.env ?? [];
      expect(env.find((e) => e.name === 'QUEUE_TYPE')?.value).toBe('sqs');
      await waitUntil(
        async () => {
          const current = await tools.apps.readNamespacedDeployment({ name: 'worker', namespace });
          return current.status?.replicas === 1 && current.status.availableReplicas === 1;
        },
        { what: 'one available worker pod of the original template', timeoutMs: 60_000 },
      );
      expect(run.account.lost).toEqual([]);
      expect(run.account.handledTwice).toEqual([]);
      expect(run.account.refused).toEqual({});
    },
  );
});
