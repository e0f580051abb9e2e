import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CreateQueueCommand, DeleteQueueCommand } from '@aws-sdk/client-sqs';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { QueueMigrationStatus } from '../../src/operator/api/status-schema.ts';
import { useTestNamespace, waitForRollout } from '../env/local-node/e2e-support.ts';
import { sqsClient } from '../env/sqs.ts';
import { required } from '../env/test-environment.ts';
import { waitUntil } from '../env/wait.ts';
import { describeAccount, settledAccount } from './support/delivery-ledger.ts';
import { OperatorProcess, operatorKubeconfig, releaseMigrations } from './support/operator-process.ts';
import { readyWebhookUrls, serviceDeployment } from './support/pipeline.ts';
import { SteadyLoad } from './support/steady-load.ts';

/**
 * Issue 7 asks for 300 deliveries/s. On the project's 2-core machines the SQS emulator's path
 * through the AWS SDK saturates near 160/s (bench/webhook-ingest.ts): at 300/s publishes to it
 * time out (503) before the migration moves anything, so CI runs at 100/s; set it higher where
 * the machine allows.
 */
const RATE = Number(process.env['QUEUESHIFT_LOAD_RATE'] ?? 100);

// The promise of queueshift: a live pipeline changes queues with no lost and no double-handled
// delivery. The webhook and worker run as pods of the project's image on the local node, the
// operator as a process with its ServiceAccount's rights, and real GitHub payloads arrive at a
// steady rate through the ready webhook pods, the way a Service would spread them.
describe('a migration under live load', () => {
  const kube = required('kube');
  const sqs = required('sqs');
  const redis = required('redis');
  const { name: namespace, tools } = useTestNamespace('qm-load');
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'qs-load-'));
  const ledgerKey = `qs-load:${randomUUID()}:ledger`;
  const keyPrefix = `qs-load:${namespace}:`;
  const secret = randomUUID();
  const ledger = new Redis({ host: redis.idempotency.host, port: redis.idempotency.port, lazyConnect: true });
  let operator: OperatorProcess | undefined;
  let queueUrl = '';

  beforeAll(async () => {
    queueUrl = (await sqsClient(sqs).send(new CreateQueueCommand({ QueueName: namespace }))).QueueUrl ?? '';
    await tools.core.createNamespacedSecret({
      namespace,
      body: { metadata: { name: 'github-webhook' }, stringData: { secret } },
    });
    const sqsEnv = [
      { name: 'QUEUE_TYPE', value: 'sqs' },
      { name: 'SQS_QUEUE_URL', value: queueUrl },
      { name: 'AWS_REGION', value: sqs.region },
      { name: 'AWS_ENDPOINT_URL', value: sqs.endpoint },
      { name: 'AWS_ACCESS_KEY_ID', value: 'test' },
      { name: 'AWS_SECRET_ACCESS_KEY', value: 'test' },
      { name: 'SQS_WAIT_TIME_SECONDS', value: '1' },
    ];
    await tools.apps.createNamespacedDeployment({
      namespace,
      body: serviceDeployment({
        name: 'webhook',
        namespace,
        command: 'webhook',
        replicas: 2,
        env: [
          ...sqsEnv,
          { name: 'WEBHOOK_SECRET', valueFrom: { secretKeyRef: { name: 'github-webhook', key: 'secret' } } },
          // A pod being replaced keeps serving until the load generator (as a Service) drops it.
          { name: 'WEBHOOK_SHUTDOWN_DELAY', value: '2s' },
        ],
      }),
    });
    await tools.apps.createNamespacedDeployment({
      namespace,
      body: serviceDeployment({
        name: 'worker',
        namespace,
        command: 'worker',
        replicas: 2,
        env: [
          ...sqsEnv,
          {
            name: 'IDEMPOTENCY_REDIS_ADDRESS',
            value: `${redis.idempotency.host}:${String(redis.idempotency.port)}`,
          },
          { name: 'IDEMPOTENCY_KEY_PREFIX', value: keyPrefix },
          { name: 'LEDGER_KEY', value: ledgerKey },
          { name: 'WORKER_COUNT', value: '16' },
          { name: 'REDIS_BLOCK_DURATION', value: '500ms' },
        ],
      }),
    });
    await Promise.all([
      waitForRollout(tools, namespace, 'webhook', 120_000),
      waitForRollout(tools, namespace, 'worker', 120_000),
    ]);
    const replica = new OperatorProcess({
      kubeconfig: await operatorKubeconfig(kube, tools, path.join(workDir, 'kubeconfig')),
      podName: `operator-${namespace}`,
      watchNamespace: namespace,
      leaseName: `operator-${namespace}`,
      logFile: path.join(workDir, 'operator.log'),
    });
    await replica.start();
    operator = replica;
  });

  afterAll(async () => {
    await operator?.stop();
    await releaseMigrations(tools, namespace);
    await sqsClient(sqs).send(new DeleteQueueCommand({ QueueUrl: queueUrl }));
    await ledger.quit();
    process.stderr.write(`[load] operator log: ${path.join(workDir, 'operator.log')}\n`);
  });

  it(
    `moves from SQS to Redis Streams at ${String(RATE)} deliveries/s: nothing lost, nothing handled twice, no non-2xx`,
    { timeout: 600_000 },
    async () => {
      const load = new SteadyLoad({
        ratePerSecond: RATE,
        secret,
        targets: () => readyWebhookUrls(tools, namespace, 'webhook'),
      });
      load.start();
      await waitUntil(() => load.acceptedCount >= RATE, {
        what: 'the load to flow through SQS',
        timeoutMs: 30_000,
      });

      await tools.kubectl(
        ['apply', '-f', '-'],
        JSON.stringify({
          apiVersion: 'queueshift.dev/v1alpha1',
          kind: 'QueueMigration',
          metadata: { name: 'live', namespace },
          spec: {
            producers: [{ name: 'webhook', container: 'webhook' }],
            consumers: [{ name: 'worker', container: 'worker' }],
            redis: {
              endpoint: {
                mode: 'standalone',
                address: `${redis.streams.host}:${String(redis.streams.port)}`,
              },
              stream: `qs-load-${namespace}`,
              group: 'workers',
            },
            sqs: { queueUrl, region: sqs.region, endpoint: sqs.endpoint },
            stages: {
              dual: { duration: '5s' },
              staging: { duration: '2s' },
              canary: { steps: [{ weight: 50, duration: '5s' }] },
              full: { bakeTime: '5s', drainWindow: '3s' },
              cleanup: { stabilityWindow: '3s' },
            },
            analysis: { interval: '1s' },
          },
        }),
      );
      const status = await waitUntil(
        async () => {
          const qm = JSON.parse(
            await tools.kubectl(['get', 'qm', 'live', '-n', namespace, '-o', 'json']),
          ) as {
            status?: QueueMigrationStatus;
          };
          return qm.status?.phase === 'Succeeded' ? qm.status : undefined;
        },
        { what: 'the migration to succeed under load', timeoutMs: 300_000, intervalMs: 500 },
      );
      // Traffic goes on a little on the new queue before the count.
      const settledAt = load.acceptedCount;
      await waitUntil(() => load.acceptedCount >= settledAt + RATE, {
        what: 'load on Redis',
        timeoutMs: 30_000,
      });
      const report = await load.stop();
      const result = await settledAccount(ledger, { ledgerKey, keyPrefix }, report);

      const timeline = (status.history ?? []).map((h) => `${h.reason} ${h.at}`).join(', ');
      process.stderr.write(
        `[load] ${describeAccount(result)}; ${String(report.redirected)} connections redirected; ` +
          `${String(Math.round((report.sent * 1000) / report.durationMs))}/s over ${String(report.durationMs)} ms\n` +
          `[load] stages: ${timeline}\n`,
      );
      expect(result.lost).toEqual([]);
      expect(result.handledTwice).toEqual([]);
      expect(result.refused).toEqual({});
      expect(result.accepted).toBe(result.sent);
    },
  );
});
