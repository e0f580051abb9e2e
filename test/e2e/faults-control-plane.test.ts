import { describe, expect, it } from 'vitest';
import type { QueueMigrationStatus } from '../../src/operator/api/status-schema.ts';
import { envPaths } from '../env/paths.ts';
import { required } from '../env/test-environment.ts';
import { waitUntil } from '../env/wait.ts';
import { restartApiServer } from './support/control-plane-faults.ts';
import {
  HELD_CANARY,
  PATIENT_ANALYSIS,
  flowingLoad,
  oneMoreSecond,
  pipelineSettings,
  useFaultScenario,
  waitForCanaryTraffic,
} from './support/fault-scenario.ts';
import { publishRunReport } from './support/run-report.ts';

// Faults of the control plane under live load: the operator SIGKILLed in dual, the API server
// restarted in canary, and the QueueMigration deleted mid-canary, whose finalizer returns
// everything to SQS and drains Redis before the object goes. The API server is restarted for
// real: this file needs an environment of its own.
describe('faults of the control plane under live load', () => {
  const kube = required('kube');
  const redis = required('redis');
  const { pipeline, namespace, tools, notes, note } = useFaultScenario('qm-control');

  it(
    'the deletion rolls back to SQS first: nothing lost, nothing handled twice, no non-2xx',
    { timeout: 300_000 },
    async () => {
      const load = await flowingLoad(pipeline);
      await pipeline.applyMigration({ stages: HELD_CANARY, analysis: PATIENT_ANALYSIS });

      await waitUntil(async () => (await pipeline.migrationStatus())?.stage === 'dual', {
        what: 'dual',
        intervalMs: 250,
      });
      await pipeline.operator?.kill('SIGKILL');
      await pipeline.operator?.start();
      note('operator killed with SIGKILL in dual and started again');

      await waitForCanaryTraffic(pipeline, redis.streams);
      note(`API server restarted (${String(await restartApiServer(envPaths(), kube))} ms until ready)`);

      // The operator must have come back to work: only it can let the object go.
      await tools.kubectl(['delete', 'qm', 'live', '-n', namespace, '--wait=false']);
      let last: QueueMigrationStatus | undefined;
      await waitUntil(
        async () => {
          if ((await tools.kubectl(['get', 'qm', '-n', namespace, '-o', 'name'])).trim() === '') return true;
          last = await pipeline.migrationStatus();
          return false;
        },
        {
          what: `the deleted QueueMigration to roll back and go (log: ${pipeline.workDir}/operator.log)`,
          timeoutMs: 120_000,
          intervalMs: 250,
        },
      );
      note('QueueMigration deleted mid-canary');
      const settings = await pipelineSettings(pipeline);

      await oneMoreSecond(load);
      const run = await pipeline.settle(load);
      publishRunReport({
        scenario: 'faults of the control plane',
        ...run,
        history: last?.history ?? [],
        notes,
      });

      expect(last?.rollback?.reason).toBe('the QueueMigration is being deleted');
      expect(last?.stage).toBe('canary');
      // Everything on SQS as before the migration, the canary gone with its owner.
      expect(settings).toEqual({ webhook: 'sqs/', worker: 'sqs/' });
      expect(run.account.lost).toEqual([]);
      expect(run.account.handledTwice).toEqual([]);
      expect(run.account.refused).toEqual({});
      expect(run.account.accepted).toBe(run.account.sent);
    },
  );
});
