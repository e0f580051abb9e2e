import { describe, expect, it } from 'vitest';
import type { QueueMigrationStatus } from '../../src/operator/api/status-schema.ts';
import { required } from '../env/test-environment.ts';
import { waitUntil } from '../env/wait.ts';
import {
  HELD_CANARY,
  PATIENT_ANALYSIS,
  flowingLoad,
  kubectlQueueshift,
  oneMoreSecond,
  useFaultScenario,
  waitForCanaryTraffic,
  pipelineSettings,
} from './support/fault-scenario.ts';
import { publishRunReport } from './support/run-report.ts';

/** The history's reasons in order. */
const reasons = (status: QueueMigrationStatus | undefined): string[] =>
  (status?.history ?? []).map((h) => h.reason);

// A user steers a migration by hand with `kubectl queueshift` while deliveries keep arriving:
// pause holds it, resume lets it go on, promote skips a canary step's wait, abort rolls it back.
describe('pause, resume, promote and abort from the kubectl plugin, under live load', () => {
  const kube = required('kube');
  const { streams } = required('redis');
  const { pipeline, namespace } = useFaultScenario('qm-controls');
  const control = async (action: string): Promise<void> => {
    const run = await kubectlQueueshift(kube, [action, 'live', '-n', namespace]);
    expect(run, `kubectl queueshift ${action}`).toMatchObject({ code: 0 });
  };
  const reached = (what: string, done: (status: QueueMigrationStatus) => boolean): Promise<true> =>
    waitUntil(async () => done((await pipeline.migrationStatus()) ?? {}), {
      what,
      timeoutMs: 180_000,
      intervalMs: 250,
    });

  it(
    'each control acts once, at once, and the deliveries come through: nothing lost, nothing handled twice, no non-2xx',
    { timeout: 300_000 },
    async () => {
      const load = await flowingLoad(pipeline);
      // A bake that outlasts the test: only the abort ends the full stage.
      await pipeline.applyMigration({
        stages: { ...HELD_CANARY, full: { bakeTime: '10m', drainWindow: '3s' } },
        analysis: PATIENT_ANALYSIS,
      });
      await reached('dual', (s) => s.stage === 'dual');
      await control('pause');
      const paused = await waitUntil(
        async () => {
          const seen = await pipeline.migrationStatus();
          return seen?.phase === 'Paused' ? seen : undefined;
        },
        { what: 'the pause', timeoutMs: 60_000, intervalMs: 250 },
      );
      // Holding is the absence of a change, so it takes time to see: twice dual's duration (the
      // pause may land in a later stage on a busy machine; it must hold there just the same).
      await new Promise((resolve) => setTimeout(resolve, 10_000));
      const held = await pipeline.migrationStatus();
      expect(held?.phase).toBe('Paused');
      expect(held?.stage).toBe(paused.stage);
      expect(reasons(held)).toEqual(reasons(paused));

      await control('resume');
      await waitForCanaryTraffic(pipeline, streams);
      await control('promote');
      // The canary step lasts 10 minutes: reaching full now is the promote's doing.
      await reached('full with consumers on Redis alone', (s) => reasons(s).includes('ConsumersSwitched'));
      await control('abort');
      const status = await pipeline.waitForPhase('RolledBack', 180_000);

      await oneMoreSecond(load);
      const run = await pipeline.settle(load);
      publishRunReport({
        scenario: 'pause resume promote abort from the kubectl plugin',
        ...run,
        history: status.history ?? [],
      });

      // Each control acted once, in the order given (the forward stages around the pause vary).
      const forward = new Set(['DualStarted', 'StagingStarted', 'CanaryStepStarted']);
      expect(reasons(status).filter((r) => !forward.has(r))).toEqual([
        'Paused',
        'Resumed',
        'Promoted',
        'FullStarted',
        'ConsumersSwitched',
        'Aborted',
        'RollbackStarted',
        'RollbackConsumersToDual',
        'RollbackProducersToOriginal',
        'RollbackDrainRedis',
        'RollbackConsumersToOriginal',
        'RolledBack',
      ]);
      // Everything back on SQS as before, the canary gone.
      expect(await pipelineSettings(pipeline)).toEqual({ webhook: 'sqs/', worker: 'sqs/' });
      expect(run.account.lost).toEqual([]);
      expect(run.account.handledTwice).toEqual([]);
      expect(run.account.refused).toEqual({});
      expect(run.account.accepted).toBe(run.account.sent);
    },
  );
});
