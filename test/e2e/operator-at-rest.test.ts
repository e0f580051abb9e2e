import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MOVER_CONSUMER } from '../../src/operator/drain/redis-movers.ts';
import { httpGet, waitForRollout } from '../env/local-node/e2e-support.ts';
import { required } from '../env/test-environment.ts';
import { waitUntil } from '../env/wait.ts';
import { HELD_CANARY, kubectlQueueshift, waitForCanaryTraffic } from './support/fault-scenario.ts';
import { pipelineInTestNamespace } from './support/live-pipeline.ts';
import { giveLeaseToAnother } from '../support/operator-process.ts';
import { connectionsOf, redisClientsOf, type RedisClientEntry } from './support/process-connections.ts';
import { abortMigration } from './support/rollback-support.ts';

/** Deliveries per second: light, since the machine runs other tests at the same time. */
const RATE = 10;

const NOTHING_HELD = { stream: [], idempotency: [], sqs: 0 };

/**
 * A pipeline in a namespace of its own with its operator running, and what that operator process
 * holds open to the migration's servers: its clients on the stream and idempotency Redis (CLIENT
 * LIST, matched by the process's own ports) and its sockets to the SQS emulator.
 */
function pipelineWithOperator(prefix: string) {
  const pipeline = pipelineInTestNamespace(prefix);
  const { streams, idempotency } = required('redis');
  const sqsPort = Number(new URL(required('sqs').endpoint).port);
  const streamRedis = new Redis({ host: streams.host, port: streams.port, lazyConnect: true });
  const idempotencyRedis = new Redis({ host: idempotency.host, port: idempotency.port, lazyConnect: true });

  beforeAll(async () => {
    await pipeline.setUp();
    await pipeline.startOperator();
  }, 300_000);
  afterAll(async () => {
    streamRedis.disconnect();
    idempotencyRedis.disconnect();
    await pipeline.tearDown();
    process.stderr.write(`[at-rest] operator log: ${pipeline.workDir}/operator.log\n`);
  });

  async function held(): Promise<{
    stream: RedisClientEntry[];
    idempotency: RedisClientEntry[];
    sqs: number;
  }> {
    const pid = pipeline.operator?.pid;
    if (pid === undefined) throw new Error('the operator is not running');
    return {
      stream: await redisClientsOf(streamRedis, pid),
      idempotency: await redisClientsOf(idempotencyRedis, pid),
      sqs: connectionsOf(pid).filter((c) => c.remotePort === sqsPort).length,
    };
  }

  /** Waits until the operator holds nothing; on timeout, the error names what it still held. */
  async function waitUntilNothingHeld(what: string): Promise<void> {
    await waitUntil(
      async () => {
        const now = await held();
        if (JSON.stringify(now) !== JSON.stringify(NOTHING_HELD))
          throw new Error(`still held: ${JSON.stringify(now)}`);
        return true;
      },
      { what, timeoutMs: 30_000, intervalMs: 250 },
    );
  }

  /** The operator's /metrics lines of `migration`'s stream series (redis_stream_*). */
  async function streamSeries(migration: string): Promise<string[]> {
    const port = pipeline.operator?.port;
    if (port === undefined) throw new Error('the operator is not running');
    const { body } = await httpGet(port, '/metrics');
    return body
      .split('\n')
      .filter((line) => line.startsWith('redis_stream_') && line.includes(`migration="${migration}"`));
  }

  /** The consumers of the pipeline's group, as XINFO CONSUMERS lists them. */
  async function groupConsumers(): Promise<string[]> {
    const rows = (await streamRedis.xinfo('CONSUMERS', pipeline.stream, 'workers')) as unknown[][];
    return rows.map((row) => String(row[row.indexOf('name') + 1]));
  }

  return { pipeline, streams, streamRedis, held, waitUntilNothingHeld, streamSeries, groupConsumers };
}

describe('an operator with a rolled-back migration', () => {
  const { pipeline, streams, streamRedis, held, waitUntilNothingHeld, streamSeries, groupConsumers } =
    pipelineWithOperator('qm-at-rest');

  async function scaleWorkers(replicas: number): Promise<void> {
    await pipeline.tools.kubectl([
      'scale',
      'deployment/worker',
      `--replicas=${String(replicas)}`,
      '-n',
      pipeline.namespace,
    ]);
  }

  it(
    'closes every connection it opened for it once RolledBack, leaving no mover consumer and no stream series, opens them again for a retry, and for a deletion releases them again',
    { timeout: 600_000 },
    async () => {
      const migration = `${pipeline.namespace}/live`;
      const load = pipeline.startLoad(RATE);
      // A drain the consumers cannot do: the operator's own mover, with its connections, moves the entries.
      await pipeline.applyMigration({ stages: HELD_CANARY, rollback: { drainTimeout: '3s' } });
      await waitForCanaryTraffic(pipeline, streams);
      const working = await held();
      process.stderr.write(`[at-rest] held in canary: ${JSON.stringify(working)}\n`);
      expect(working.stream.length).toBeGreaterThan(0);
      expect(working.stream.every((c) => c.name.startsWith('queueshift:'))).toBe(true);
      await waitUntil(async () => (await streamSeries(migration)).length > 0, {
        what: 'the operator to export the stream series of the running migration',
        timeoutMs: 60_000,
        intervalMs: 250,
      });

      // No consumer left: what the canary publishes from now on waits in the stream.
      await scaleWorkers(0);
      await waitUntil(
        async () => {
          const pods = await pipeline.tools.core.listNamespacedPod({
            namespace: pipeline.namespace,
            labelSelector: 'app=worker',
          });
          return pods.items.length === 0;
        },
        { what: 'every worker pod to be gone', timeoutMs: 60_000, intervalMs: 250 },
      );
      const unread = await streamRedis.xlen(pipeline.stream);
      await waitUntil(async () => (await streamRedis.xlen(pipeline.stream)) >= unread + 5, {
        what: 'entries nobody reads to wait in the stream',
        timeoutMs: 60_000,
        intervalMs: 250,
      });
      await abortMigration(pipeline);
      const rolledBack = await pipeline.waitForPhase('RolledBack');
      expect(rolledBack.rollback?.drain?.moved).toBeGreaterThan(0);

      await waitUntilNothingHeld('the operator to close its connections of the rolled-back migration');
      // The mover read as a consumer of the group; released with nothing pending, it left the group.
      expect(await groupConsumers()).not.toContain(MOVER_CONSUMER);
      expect(await streamSeries(migration)).toEqual([]);
      expect(
        await pipeline.operator?.metric(
          `queueshift_migration_phase{migration="${migration}",phase="RolledBack"}`,
        ),
      ).toBe(1);

      // Reconciles at rest (the worker Deployment scaled back up) open nothing.
      const reconciles = (): Promise<number> => pipeline.operator?.reconciles() ?? Promise.resolve(0);
      const before = await reconciles();
      await scaleWorkers(2);
      await waitForRollout(pipeline.tools, pipeline.namespace, 'worker', 120_000);
      await waitUntil(async () => (await reconciles()) > before + 2, {
        what: 'the operator to reconcile the migration at rest',
        timeoutMs: 60_000,
        intervalMs: 250,
      });
      expect(await held()).toEqual(NOTHING_HELD);
      expect(await streamSeries(migration)).toEqual([]);

      // Nothing was lost: the mover's entries and the rest are handled once, through SQS.
      const run = await pipeline.settle(load);
      expect(run.account.lost).toEqual([]);
      expect(run.account.handledTwice).toEqual([]);
      expect(run.account.accepted).toBe(run.account.sent);

      const retry = await kubectlQueueshift(required('kube'), ['retry', 'live', '-n', pipeline.namespace]);
      expect(retry.code).toBe(0);
      const retried = await pipeline.waitForPhase('Progressing');
      expect(retried.history?.filter((h) => h.reason === 'DualStarted')).toHaveLength(2);
      await waitUntil(async () => (await held()).stream.length > 0, {
        what: 'the retried migration to connect to the stream Redis again',
        timeoutMs: 60_000,
        intervalMs: 250,
      });

      // Deleted mid-migration: rolled back first (the finalizer), then released.
      await pipeline.tools.kubectl(['delete', 'qm', 'live', '-n', pipeline.namespace, '--wait=false']);
      await waitUntil(
        async () =>
          (await pipeline.tools.kubectl(['get', 'qm', '-n', pipeline.namespace, '-o', 'name'])).trim() === '',
        { what: 'the QueueMigration to be deleted', timeoutMs: 240_000, intervalMs: 500 },
      );
      await waitUntilNothingHeld('the operator to close its connections of the deleted migration');
      expect(await groupConsumers()).not.toContain(MOVER_CONSUMER);
      expect(await streamSeries(migration)).toEqual([]);
    },
  );
});

describe('an operator with a succeeded migration', () => {
  const { pipeline, held, waitUntilNothingHeld, streamSeries } = pipelineWithOperator('qm-at-rest-done');

  it(
    'closes every connection it opened for it once the final sweep is done and the migration Succeeded',
    { timeout: 600_000 },
    async () => {
      const load = await pipeline.startFlowingLoad(RATE);
      await pipeline.applyMigration();
      await waitUntil(
        async () => ((await pipeline.migrationStatus())?.stage === 'cleanup' ? held() : undefined),
        { what: 'the migration to reach cleanup', timeoutMs: 300_000, intervalMs: 250 },
      );
      const cleaning = await held();
      expect(cleaning.stream.length + cleaning.sqs).toBeGreaterThan(0);
      const status = await pipeline.waitForPhase('Succeeded');
      expect(status.history?.map((h) => h.reason)).toContain('CleanupStarted');

      await waitUntilNothingHeld('the operator to close its connections of the succeeded migration');
      // The pipeline goes on using the stream, but the operator no longer measures it.
      expect(await streamSeries(`${pipeline.namespace}/live`)).toEqual([]);
      const run = await pipeline.settle(load);
      expect(run.account.lost).toEqual([]);
      expect(run.account.handledTwice).toEqual([]);
      expect(run.account.accepted).toBe(run.account.sent);
      expect(await held()).toEqual(NOTHING_HELD);
    },
  );
});

describe('an operator that stops leading mid-migration', () => {
  const { pipeline, held, waitUntilNothingHeld, streamSeries } = pipelineWithOperator('qm-at-rest-standby');

  it(
    'lets go of the connections and stream series it held for the migration while another holds the lease, and takes them up when it leads again',
    { timeout: 600_000 },
    async () => {
      const migration = `${pipeline.namespace}/live`;
      const operator = pipeline.operator;
      if (operator === undefined) throw new Error('the operator is not running');
      const measuring = async (): Promise<boolean> =>
        (await held()).stream.length > 0 && (await streamSeries(migration)).length > 0;
      const load = await pipeline.startFlowingLoad(RATE);
      await pipeline.applyMigration({ stages: HELD_CANARY });
      await waitUntil(measuring, {
        what: 'the leader to connect to the stream Redis and export the stream series',
        timeoutMs: 120_000,
        intervalMs: 250,
      });

      await giveLeaseToAnother(pipeline.tools, operator.options.leaseName);
      await waitUntil(async () => (await operator.metric('queueshift_operator_leader')) === 0, {
        what: 'the replica to step down',
        timeoutMs: 30_000,
        intervalMs: 100,
      });
      await waitUntilNothingHeld('the standby to close the connections it opened as leader');
      expect(await streamSeries(migration)).toEqual([]);

      // The other holder never renews: the lease expires, and leading again the replica measures again.
      await waitUntil(measuring, {
        what: 'the replica to lead again and measure the stream',
        timeoutMs: 120_000,
        intervalMs: 250,
      });
      expect((await pipeline.migrationStatus())?.phase).toBe('Progressing');
      const run = await pipeline.settle(load);
      expect(run.account.lost).toEqual([]);
      expect(run.account.handledTwice).toEqual([]);
      expect(run.account.accepted).toBe(run.account.sent);
    },
  );
});
