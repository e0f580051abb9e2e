import { describe, expect, it } from 'vitest';
import { CONTROL_ANNOTATIONS } from '../../src/operator/api/names.ts';
import { envPaths } from '../env/paths.ts';
import { restartRedisServer, withRedis } from '../env/redis.ts';
import { daemonPid } from '../env/state.ts';
import { environment, required } from '../env/test-environment.ts';
import { waitUntil } from '../env/wait.ts';
import { whileFrozen } from './support/fault-process.ts';
import { fsyncEveryWrite, persistenceOf } from './support/fault-redis.ts';
import {
  FAULT_LOAD_RATE as RATE,
  HELD_CANARY,
  PATIENT_ANALYSIS,
  flowingLoad,
  killPodProcess,
  oneMoreSecond,
  useFaultScenario,
  waitForCanaryTraffic,
} from './support/fault-scenario.ts';
import { readyWebhookUrls } from './support/pipeline.ts';
import { publishRunReport } from './support/run-report.ts';

/** How long SQS stays unreachable. */
const SQS_OUTAGE_MS = 60_000;

// Faults on the path deliveries take, under live load: SQS unreachable for a minute while the
// producers publish to it alone; then a migration during whose canary a worker is SIGKILLed and the
// stream Redis restarts with append-only persistence and fsync always. The servers are stopped
// for real: this file needs an environment of its own.
describe('faults on the data path under live load', () => {
  const redis = required('redis');
  const { pipeline, namespace, tools, notes, note } = useFaultScenario('qm-data');

  it(
    'loses nothing and handles nothing twice; the only non-2xx are deliveries refused while SQS was away, each handled at most once',
    { timeout: 360_000 },
    async () => {
      const healthy = await (await flowingLoad(pipeline)).stop();

      // Each phase's load is its own, so every refusal is known to belong to the outage.
      const sqsPid = daemonPid(environment(), required('sqs').daemon);
      const outage = await whileFrozen(sqsPid, async () => {
        const during = pipeline.startLoad(RATE);
        await new Promise((resolve) => setTimeout(resolve, SQS_OUTAGE_MS));
        return during.stop();
      });
      // While no webhook pod is ready (their readiness asks SQS), a Service has no endpoint: the
      // deliveries due then count as refused with NO_READY_POD, as GitHub would see them fail.
      note(
        `SQS frozen (SIGSTOP) for ${String(SQS_OUTAGE_MS / 1000)} s: sent ${String(outage.sent)}, ` +
          `accepted ${String(outage.accepted.size)}, refused ${JSON.stringify(outage.refused)}`,
      );
      await waitUntil(async () => (await readyWebhookUrls(tools, namespace, 'webhook')).length === 2, {
        what: 'the webhook pods to be ready again once SQS answers',
        timeoutMs: 60_000,
      });

      const migrating = await flowingLoad(pipeline);
      await pipeline.applyMigration({ stages: HELD_CANARY, analysis: PATIENT_ANALYSIS });
      await waitForCanaryTraffic(pipeline, redis.streams);
      note(`worker ${await killPodProcess(tools, namespace, 'worker')} killed with SIGKILL and restarted`);

      const streamLength = (): Promise<number> =>
        withRedis({ port: redis.streams.port }, (client) => client.xlen(pipeline.stream));
      const restorePersistence = await fsyncEveryWrite(redis.streams);
      try {
        const lengthBefore = await streamLength();
        await restartRedisServer(envPaths(), redis.streams.daemon);
        expect(await persistenceOf(redis.streams)).toBe('yes/always');
        // Entries are only removed once acknowledged and trimmed, which cannot happen while it is down.
        expect(await streamLength()).toBeGreaterThanOrEqual(lengthBefore);
        note(
          `stream Redis restarted with appendonly yes, appendfsync always (${String(lengthBefore)} entries kept)`,
        );
      } finally {
        await restorePersistence();
      }

      await tools.kubectl([
        'annotate',
        'qm',
        'live',
        '-n',
        namespace,
        `${CONTROL_ANNOTATIONS.promote}=after-faults`,
      ]);
      const status = await pipeline.waitForPhase('Succeeded', 180_000);
      await oneMoreSecond(migrating);
      const migrated = await migrating.stop();

      const run = await pipeline.settleAll([healthy, outage, migrated]);
      const handledButRefused = (await pipeline.ledgerIds()).filter((id) => !run.load.accepted.has(id));
      publishRunReport({
        scenario: 'faults on the data path',
        ...run,
        history: status.history ?? [],
        notes: [
          ...notes,
          `refused with 503 after the publish timed out, yet enqueued once SQS ran again and handled once: ${String(handledButRefused.length)}`,
        ],
      });

      expect(run.account.lost).toEqual([]);
      expect(run.account.handledTwice).toEqual([]);
      expect(healthy.refused).toEqual({});
      expect(migrated.refused).toEqual({});
      // The outage: every delivery refused with what a sender sees (503 after the publish budget, or
      // no ready webhook pod at all), and none of them handled.
      expect(outage.accepted.size).toBe(0);
      expect(Object.keys(outage.refused).filter((r) => r !== '503' && r !== 'NO_READY_POD')).toEqual([]);
      expect(Object.values(outage.refused).reduce((sum, n) => sum + n, 0)).toBe(outage.sent);
      // A 503 after the publish budget ran out does not mean "not published": the request had reached
      // the frozen emulator, which enqueued it once it ran again. Such a delivery is handled at most
      // once (handledTwice covers the whole ledger), so GitHub's manual redelivery of it is safe.
      expect(handledButRefused.length).toBeLessThanOrEqual(outage.refused['503'] ?? 0);
      expect(run.account.accepted).toBe(healthy.sent + migrated.sent);
    },
  );
});
