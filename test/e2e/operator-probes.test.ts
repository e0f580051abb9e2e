import { CreateQueueCommand, DeleteQueueCommand } from '@aws-sdk/client-sqs';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnalysisStatus, QueueMigrationStatus } from '../../src/operator/api/status-schema.ts';
import { testServerDeployment, useTestNamespace } from '../env/local-node/e2e-support.ts';
import { sqsClient } from '../env/sqs.ts';
import { required } from '../env/test-environment.ts';
import { waitUntil } from '../env/wait.ts';
import { sqsQueueEnv } from './support/live-pipeline.ts';
import { applyMigration, useOperatorFor } from '../support/operator-process.ts';
import { serviceDeployment } from './support/pipeline.ts';

const PROBE_METRICS = [
  {
    name: 'probe-failures',
    probe: 'failed-probes',
    threshold: { operator: '<=', value: 0 },
    stages: ['staging'],
  },
  {
    name: 'probe-round-trip-p99',
    probe: 'round-trip-p99-seconds',
    threshold: { operator: '<=', value: 5 },
    stages: ['staging'],
  },
];

// The operator as a process with config/rbac's rights; probes go through the stream to worker
// pods that run this checkout's built CLI (`npm run build`), and their done marks are looked up in
// the environment's idempotency Redis, where those workers write them.
describe('the operator gates staging on synthetic probes', () => {
  const sqs = required('sqs');
  const { streams, idempotency } = required('redis');
  const testNamespace = useTestNamespace('qm-probe');
  const { name: namespace, tools } = testNamespace;
  const operator = useOperatorFor(testNamespace);
  const { logFile } = operator.options;
  const store = new Redis({ host: idempotency.host, port: idempotency.port, lazyConnect: true });
  const streamsUsed: string[] = [];
  let queueUrl = '';

  beforeAll(async () => {
    queueUrl = (await sqsClient(sqs).send(new CreateQueueCommand({ QueueName: namespace }))).QueueUrl ?? '';
    await operator.start();
  });

  afterAll(async () => {
    await sqsClient(sqs).send(new DeleteQueueCommand({ QueueUrl: queueUrl }));
    const redis = new Redis({ host: streams.host, port: streams.port });
    if (streamsUsed.length > 0) await redis.del(...streamsUsed).finally(() => redis.quit());
    else await redis.quit();
    store.disconnect();
  });

  /**
   * A producer (an HTTP test server: probes do not go through it here) and a real worker on SQS,
   * as a migration finds them; `workers` pods of the worker.
   */
  async function pipeline(name: string, workers: number): Promise<void> {
    const sqsEnv = sqsQueueEnv(sqs, queueUrl);
    await tools.apps.createNamespacedDeployment({
      namespace,
      body: testServerDeployment({
        name: `webhook-${name}`,
        namespace,
        value: name,
        replicas: 1,
        env: sqsEnv,
      }),
    });
    await tools.apps.createNamespacedDeployment({
      namespace,
      body: serviceDeployment({
        name: `worker-${name}`,
        namespace,
        command: 'worker',
        replicas: workers,
        env: [
          ...sqsEnv,
          { name: 'IDEMPOTENCY_REDIS_ADDRESS', value: `${idempotency.host}:${String(idempotency.port)}` },
          { name: 'LEDGER_KEY', value: `${namespace}:${name}:ledger` },
          { name: 'REDIS_BLOCK_DURATION', value: '500ms' },
        ],
      }),
    });
  }

  async function migrate(name: string, analysis: Record<string, unknown>): Promise<void> {
    const stream = `${namespace}-${name}`;
    streamsUsed.push(stream, `${stream}:dlq`);
    await applyMigration(tools, namespace, name, {
      producers: [{ name: `webhook-${name}`, container: 'server' }],
      consumers: [{ name: `worker-${name}`, container: 'worker' }],
      redis: {
        endpoint: { mode: 'standalone', address: `${streams.host}:${String(streams.port)}` },
        stream,
        group: 'workers',
      },
      sqs: { queueUrl, region: sqs.region, endpoint: sqs.endpoint },
      stages: {
        dual: { duration: '2s' },
        staging: { duration: '3s' },
        canary: { steps: [{ weight: 50, duration: '10m' }] },
      },
      analysis: { interval: '1s', ...analysis },
    });
  }

  async function status(name: string): Promise<QueueMigrationStatus> {
    const qm = JSON.parse(await tools.kubectl(['get', 'qm', name, '-n', namespace, '-o', 'json'])) as {
      status?: QueueMigrationStatus;
    };
    return qm.status ?? {};
  }

  it('passes staging once worker pods mark the probes done', async () => {
    await pipeline('live', 1);
    await migrate('live', { probes: { interval: '1s', timeout: '3s' } });
    // The staging analysis as last seen before the stage changed (counters start again per step).
    let staging: AnalysisStatus | undefined;
    const reached = await waitUntil(
      async () => {
        const now = await status('live');
        if (now.analysis?.stage === 'staging') staging = now.analysis;
        return now.stage === 'canary' || now.phase === 'RolledBack' || now.phase === 'Paused'
          ? now
          : undefined;
      },
      { what: `the migration to leave staging (log: ${logFile})`, timeoutMs: 180_000, intervalMs: 200 },
    );
    expect(reached).toMatchObject({ stage: 'canary', phase: 'Progressing' });
    const probes = (staging?.metrics ?? []).filter((m) => m.name.startsWith('probe-'));
    expect(probes.map((m) => m.name).sort()).toEqual([
      'probe-failures',
      'probe-round-trip-p50',
      'probe-round-trip-p99',
    ]);
    for (const metric of probes) {
      expect(metric).toMatchObject({ verdict: 'success', failures: 0, errors: 0 });
      expect(metric.successes).toBeGreaterThan(0);
    }
    // A worker pod marked every probe it was sent done in the store the consumers use.
    const done: string[] = [];
    for await (const keys of store.scanStream({
      match: `queueshift:idem:{queueshift-probe-${namespace}.live-*}:done`,
      count: 1_000,
    }))
      done.push(...(keys as string[]));
    expect(done.length).toBeGreaterThanOrEqual(probes[0]?.successes ?? 1);
  });

  // The rollback's own drain then waits for the probes left in the stream: moving them to SQS when
  // no consumer makes progress is the drain's business, not the probes'.
  it.each([
    {
      policy: 'a failed probe starts a rollback',
      name: 'no-workers-rollback',
      analysis: { failureLimit: 0 },
      metrics: PROBE_METRICS,
      phases: ['RollingBack', 'RolledBack'],
      transition: {
        reason: 'RollbackStarted',
        message: 'gate failed: metric probe-failures failed: value 1, threshold <= 0 (1 failure(s), limit 0)',
      },
    },
    {
      policy: 'no round trip to judge pauses, as inconclusivePolicy says',
      name: 'no-workers-pause',
      analysis: { inconclusiveLimit: 1, inconclusivePolicy: 'pause' },
      metrics: PROBE_METRICS.slice(1),
      phases: ['Paused'],
      transition: {
        reason: 'AnalysisInconclusive',
        message:
          'paused (inconclusivePolicy pause; annotate queueshift.dev/retry=<token> to resume): metric ' +
          'probe-round-trip-p99: 2 inconclusive measurement(s) (limit 1): metric probe-round-trip-p99: ' +
          'no data: no probe was marked done within 1s',
      },
    },
  ])(
    'with the workers scaled to 0 before staging, $policy',
    async ({ name, analysis, metrics, phases, transition }) => {
      await pipeline(name, 0);
      // No consumer pod exists to join the group, so the built-in metrics would hold dual: the
      // probes are the gate under test.
      await migrate(name, {
        ...analysis,
        defaultMetrics: false,
        metrics,
        probes: { interval: '1s', timeout: '1s' },
      });
      const final = await waitUntil(
        async () => {
          const now = await status(name);
          return phases.includes(now.phase ?? '') ? now : undefined;
        },
        {
          what: `the migration to stop going forward (log: ${logFile})`,
          timeoutMs: 120_000,
          intervalMs: 200,
        },
      );
      expect(final.stage).toBe('staging');
      expect((final.history ?? []).map((h) => h.reason)).toEqual([
        'DualStarted',
        'StagingStarted',
        transition.reason,
        ...(final.history ?? []).slice(3).map((h) => h.reason),
      ]);
      expect(final.history?.[2]).toMatchObject({ stage: 'staging', ...transition });
    },
  );
});
