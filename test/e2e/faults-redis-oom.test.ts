import { describe, expect, it } from 'vitest';
import { required } from '../env/test-environment.ts';
import { waitUntil } from '../env/wait.ts';
import { exhaustMemory, oomRefusals } from './support/fault-redis.ts';
import {
  HELD_CANARY,
  flowingLoad,
  oneMoreSecond,
  recordedAt,
  useFaultScenario,
  waitForCanaryTraffic,
  watchQueueSettings,
} from './support/fault-scenario.ts';
import { publishRunReport } from './support/run-report.ts';

// The stream Redis runs out of memory under `noeviction` while canaries publish to it: writes are
// refused for real, the canaries fall back to SQS, and the built-in memory-headroom gate rolls the
// migration back by itself. Needs an environment of its own: the fault blocks every writer of the
// stream Redis.
describe('the stream Redis out of memory during canary, under live load', () => {
  const { streams } = required('redis');
  const { pipeline } = useFaultScenario('qm-oom');

  it(
    'rolls back to SQS by itself: nothing lost, nothing handled twice, no non-2xx',
    { timeout: 300_000 },
    async () => {
      const load = await flowingLoad(pipeline);
      const watch = await watchQueueSettings(pipeline);
      try {
        await pipeline.applyMigration({ stages: HELD_CANARY });
        await waitForCanaryTraffic(pipeline, streams);
        watch.reset();
        // Polled from before the fault, so the time it is seen is the time of the change.
        const producersOnSqs = waitUntil(() => watch.changes.includes('webhook sqs/') && Date.now(), {
          what: 'the producers back on SQS',
          timeoutMs: 180_000,
          intervalMs: 20,
        });
        const refusedBefore = await oomRefusals(streams);
        const restoreMemory = await exhaustMemory(streams);
        let status;
        let refusedDuring: number;
        try {
          status = await pipeline.waitForPhase('RolledBack', 180_000);
          refusedDuring = (await oomRefusals(streams)) - refusedBefore;
        } finally {
          await restoreMemory();
        }
        const verdictToSqsMs = (await producersOnSqs) - recordedAt(status, 'RollbackStarted');

        // Traffic goes on a little on SQS alone before the count.
        await oneMoreSecond(load);
        const run = await pipeline.settle(load);
        publishRunReport({
          scenario: 'stream redis out of memory during canary',
          ...run,
          history: status.history ?? [],
          verdictToSqsMs,
          notes: [
            `${String(refusedDuring)} writes refused with OOM by the stream Redis`,
            `rollback reason: ${status.rollback?.reason ?? '-'}`,
          ],
        });

        // The memory gate saw the full Redis and rolled back; it can act before the first write is
        // refused (the count is in the report), and every refused write went to SQS instead.
        expect(status.rollback?.reason).toMatch(/redis-memory-headroom failed/);
        expect(status.stage).toBe('canary');
        // The path back keeps a reader on every queue, and ends with everything on SQS.
        expect(watch.changes).toEqual(['webhook-canary deleted', 'webhook sqs/', 'worker sqs/']);
        expect(verdictToSqsMs).toBeGreaterThan(0);
        expect(run.account.lost).toEqual([]);
        expect(run.account.handledTwice).toEqual([]);
        // Refused writes fell back to SQS: no delivery was turned away.
        expect(run.account.refused).toEqual({});
        expect(run.account.accepted).toBe(run.account.sent);
      } finally {
        watch.stop();
      }
    },
  );
});
