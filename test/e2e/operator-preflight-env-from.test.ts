import { CreateQueueCommand, DeleteQueueCommand } from '@aws-sdk/client-sqs';
import type { V1EnvFromSource } from '@kubernetes/client-node';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { QueueMigrationStatus } from '../../src/operator/api/status-schema.ts';
import { testServerDeployment, useTestNamespace } from '../env/local-node/e2e-support.ts';
import { sqsClient } from '../env/sqs.ts';
import { required } from '../env/test-environment.ts';
import { waitUntil } from '../env/wait.ts';
import { applyMigration, useOperatorFor } from '../support/operator-process.ts';

// The operator as a process with config/rbac's rights (no access to ConfigMaps), against the real
// API server; the stream is this file's own on the shared stream Redis.
describe('the preflight tells which managed containers take variables through envFrom', () => {
  const sqs = required('sqs');
  const streams = required('redis').streams;
  const testNamespace = useTestNamespace('qm-envfrom');
  const { name: namespace, tools } = testNamespace;
  const operator = useOperatorFor(testNamespace);
  const { logFile } = operator.options;
  let queueUrl = '';

  const status = async (): Promise<QueueMigrationStatus> =>
    (
      JSON.parse(await tools.kubectl(['get', 'qm', 'webhooks', '-n', namespace, '-o', 'json'])) as {
        status?: QueueMigrationStatus;
      }
    ).status ?? {};

  async function createDeployment(name: string, envFrom: V1EnvFromSource[]): Promise<void> {
    const env = [{ name: 'QUEUE_TYPE', value: 'sqs' }];
    const body = testServerDeployment({ name, namespace, value: name, replicas: 1, env });
    const container = body.spec?.template.spec?.containers[0];
    if (container === undefined) throw new Error('testServerDeployment has no container');
    container.envFrom = envFrom;
    await tools.apps.createNamespacedDeployment({ namespace, body });
  }

  beforeAll(async () => {
    queueUrl = (await sqsClient(sqs).send(new CreateQueueCommand({ QueueName: namespace }))).QueueUrl ?? '';
    await tools.core.createNamespacedConfigMap({
      namespace,
      body: { metadata: { name: 'pipeline-queue' }, data: { SQS_QUEUE_URL: queueUrl } },
    });
    await tools.core.createNamespacedConfigMap({
      namespace,
      body: { metadata: { name: 'github-app' }, data: { APP_ID: '1' } },
    });
    await tools.core.createNamespacedSecret({
      namespace,
      body: { metadata: { name: 'aws-queue' }, stringData: { QUEUE_URL: queueUrl } },
    });
    await createDeployment('webhook', [
      { secretRef: { name: 'aws-queue' }, prefix: 'SQS_' },
      // Its prefix yields no variable the operator manages: not worth a word.
      { configMapRef: { name: 'github-app' }, prefix: 'GITHUB_' },
    ]);
    await createDeployment('worker', [{ configMapRef: { name: 'pipeline-queue' } }]);
    await operator.start();
  });

  afterAll(async () => {
    await operator.stop();
    await sqsClient(sqs).send(new DeleteQueueCommand({ QueueUrl: queueUrl }));
    const redis = new Redis(streams);
    await redis.del(namespace, `${namespace}:dlq`).finally(() => redis.quit());
  });

  it('refuses to start while a consumer’s idempotency store may come through envFrom, then starts once env locates it, warning about envFrom', async () => {
    await applyMigration(tools, namespace, 'webhooks', {
      producers: [{ name: 'webhook', container: 'server' }],
      consumers: [{ name: 'worker', container: 'server' }],
      redis: {
        endpoint: { mode: 'standalone', address: `${streams.host}:${streams.port}` },
        stream: namespace,
      },
      sqs: { queueUrl, region: sqs.region, endpoint: sqs.endpoint },
      stages: { dual: { duration: '10m' } },
      analysis: { interval: '1s', defaultMetrics: false },
    });
    // The worker's ConfigMap has no prefix: it may set the store's location, which the operator
    // cannot record. Nothing is patched until env says where the store is.
    await waitUntil(
      async () =>
        (await status()).preflight?.checks.some((c) => c.name === 'idempotency-store-in-env') === true,
      { what: `the preflight to refuse the worker's store location (log: ${logFile})`, timeoutMs: 60_000 },
    );
    const refused = await status();
    expect(refused.phase).toBe('Pending');
    expect(refused.preflight?.passedAt).toBeUndefined();
    const refusal = refused.preflight?.checks.find((c) => c.name === 'idempotency-store-in-env');
    expect(refusal?.outcome).toBe('failed');
    expect(refusal?.message).toMatch(
      /^the idempotency store of consumer worker\/server may be located through envFrom/,
    );
    expect(refused.conditions?.find((c) => c.type === 'PreflightPassed')).toMatchObject({ status: 'False' });
    const worker = await tools.apps.readNamespacedDeployment({ name: 'worker', namespace });
    expect(worker.metadata?.generation).toBe(1);

    await tools.kubectl([
      'set',
      'env',
      'deployment/worker',
      '-n',
      namespace,
      `IDEMPOTENCY_REDIS_ADDRESS=${streams.host}:${streams.port}`,
    ]);
    await waitUntil(async () => (await status()).stage === 'dual', {
      what: `the migration to pass its preflight and start dual (log: ${logFile})`,
      timeoutMs: 60_000,
    });
    const started = await status();
    expect(started.phase).toBe('Progressing');

    const check = started.preflight?.checks.find((c) => c.name === 'managed-env-from');
    expect(check?.outcome).toBe('warning');
    expect(check?.message).toMatch(
      /^producer webhook\/server takes envFrom Secret aws-queue \(prefix SQS_\); consumer worker\/server takes envFrom ConfigMap pipeline-queue: /,
    );
    expect(check?.message).not.toContain('github-app');
    expect(check?.message).toMatch(
      /SQS_QUEUE_URL and the other SQS settings that come from there stay in the pods/,
    );
    expect(check?.message).toMatch(
      /unknown: the operator may not read ConfigMaps and never reads Secrets taken through envFrom$/,
    );

    const condition = started.conditions?.find((c) => c.type === 'PreflightPassed');
    expect(condition).toMatchObject({ status: 'True', reason: 'ChecksPassed' });
    expect(condition?.message).toContain(
      '; managed-env-from: producer webhook/server takes envFrom Secret aws-queue',
    );
  });
});
