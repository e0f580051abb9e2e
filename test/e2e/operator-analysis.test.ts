import http from 'node:http';
import { CreateQueueCommand, DeleteQueueCommand } from '@aws-sdk/client-sqs';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { QueueMigrationStatus } from '../../src/operator/api/status-schema.ts';
import { httpGet, testServerDeployment, useTestNamespace } from '../env/local-node/e2e-support.ts';
import { freePort, LOOPBACK } from '../env/ports.ts';
import { sqsClient } from '../env/sqs.ts';
import { required } from '../env/test-environment.ts';
import { waitUntil } from '../env/wait.ts';
import { applyMigration, operatorKubeconfig, useOperatorFor } from '../support/operator-process.ts';
import { QueueSettingsWatch } from './support/queue-settings-watch.ts';

// The operator as a process with the ServiceAccount of config/rbac; a PromQL metric answered by
// the environment's real Prometheus fails in canary, and nobody annotates anything.
describe('the operator rolls a migration back by itself when a metric fails', () => {
  const kube = required('kube');
  const sqs = required('sqs');
  const prometheus = required('prometheus');
  const streams = required('redis').streams;
  const testNamespace = useTestNamespace('qm-an');
  const { name: namespace, tools } = testNamespace;
  const stream = namespace;
  const operator = useOperatorFor(testNamespace);
  const { logFile } = operator.options;
  let queueUrl = '';
  // The notification receiver: a real HTTP server the operator process POSTs transitions to.
  const notifications: { reason: string; message: string; phase: string }[] = [];
  const receiver = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    req.on('end', () => {
      notifications.push(JSON.parse(body) as { reason: string; message: string; phase: string });
      res.writeHead(204).end();
    });
  });
  let receiverUrl = '';

  beforeAll(async () => {
    queueUrl = (await sqsClient(sqs).send(new CreateQueueCommand({ QueueName: namespace }))).QueueUrl ?? '';
    const env = [
      { name: 'QUEUE_TYPE', value: 'sqs' },
      { name: 'SQS_QUEUE_URL', value: queueUrl },
    ];
    for (const [name, replicas] of [
      ['webhook', 2],
      ['worker', 1],
    ] as const) {
      await tools.apps.createNamespacedDeployment({
        namespace,
        body: testServerDeployment({ name, namespace, value: name, replicas, env }),
      });
    }
    // The group consumers would have created in dual: the rollback's drain reads its backlog (0).
    const redis = new Redis({ host: streams.host, port: streams.port });
    try {
      await redis.xgroup('CREATE', stream, 'workers', '0', 'MKSTREAM');
    } finally {
      await redis.quit();
    }
    const port = await freePort();
    await new Promise<void>((resolve) => receiver.listen(port, LOOPBACK, resolve));
    receiverUrl = `http://${LOOPBACK}:${port}/transitions`;
    await operator.start();
  });

  afterAll(async () => {
    receiver.close();
    await sqsClient(sqs).send(new DeleteQueueCommand({ QueueUrl: queueUrl }));
    const redis = new Redis({ host: streams.host, port: streams.port });
    await redis.del(stream).finally(() => redis.quit());
  });

  it('a PromQL metric failing in canary rolls back to SQS, naming metric, value and threshold', async () => {
    // Every change to the Deployments' queue settings, as a watch sees it.
    const watch = await QueueSettingsWatch.start(kube, namespace, ['webhook', 'worker', 'webhook-canary'], 2);
    const { changes } = watch;
    // Worktrees of other branches share this API server and may have installed their own CRD.
    await operatorKubeconfig(kube, tools, operator.options.kubeconfig);
    await applyMigration(tools, namespace, 'webhooks', {
      producers: [{ name: 'webhook', container: 'server' }],
      consumers: [{ name: 'worker', container: 'server' }],
      redis: {
        endpoint: { mode: 'standalone', address: `${streams.host}:${streams.port}` },
        stream,
        group: 'workers',
      },
      sqs: { queueUrl, region: sqs.region, endpoint: sqs.endpoint },
      notificationUrl: receiverUrl,
      stages: {
        dual: { duration: '2s' },
        staging: { duration: '2s' },
        canary: { steps: [{ weight: 50, duration: '10m' }] },
      },
      analysis: {
        interval: '1s',
        // The pods are HTTP test servers that read no stream: the built-in Redis metrics would
        // (rightly) find no active consumer. The PromQL metric is the gate under test.
        defaultMetrics: false,
        prometheus: { url: prometheus.url },
        metrics: [
          {
            name: 'error-rate',
            query: 'vector(0.3)',
            threshold: { operator: '<', value: 0.05 },
            stages: ['canary'],
          },
        ],
      },
    });
    const status = async (): Promise<QueueMigrationStatus> =>
      (
        JSON.parse(await tools.kubectl(['get', 'qm', 'webhooks', '-n', namespace, '-o', 'json'])) as {
          status?: QueueMigrationStatus;
        }
      ).status ?? {};
    await waitUntil(async () => (await status()).phase === 'RolledBack', {
      what: `the migration to roll back by itself (log: ${logFile})`,
      timeoutMs: 180_000,
    });
    watch.stop();

    const final = await status();
    const reason =
      'gate failed: metric error-rate failed: value 0.3, threshold < 0.05 (1 failure(s), limit 0)';
    expect(final.rollback?.reason).toBe(reason);
    expect(final.stage).toBe('canary');
    expect(final.analysis?.metrics).toEqual([
      expect.objectContaining({
        name: 'error-rate',
        verdict: 'failure',
        value: '0.3',
        threshold: '< 0.05',
        failures: 1,
      }),
    ]);
    // The path back keeps a reader on every queue: canary gone, producers on SQS, then consumers.
    const canaryCreated = changes.findIndex((c) => c.startsWith('webhook-canary redis'));
    expect(canaryCreated).toBeGreaterThanOrEqual(0);
    expect(changes.slice(canaryCreated + 1)).toEqual([
      'webhook-canary deleted',
      'webhook sqs/',
      'worker sqs/',
    ]);

    const { items } = await tools.core.listNamespacedEvent({
      namespace,
      fieldSelector: 'reason=RollbackStarted',
    });
    expect(items.map((e) => [e.type, e.message])).toEqual([['Warning', reason]]);
    // Every transition was POSTed, the automatic rollback with its reason.
    await waitUntil(() => notifications.length === (final.history ?? []).length, {
      what: 'a notification per transition',
    });
    expect(notifications.map((n) => n.reason)).toEqual((final.history ?? []).map((h) => h.reason));
    expect(notifications.find((n) => n.reason === 'RollbackStarted')).toMatchObject({
      message: reason,
      phase: 'RollingBack',
    });
    const metrics = (await httpGet(operator.port, '/metrics')).body;
    expect(metrics).toMatch(
      new RegExp(
        `queueshift_analysis_measurements_total\\{migration="${namespace}/webhooks",metric="error-rate",verdict="failure"\\} 1`,
      ),
    );
  });
});
