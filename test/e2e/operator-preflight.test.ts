import { CreateQueueCommand, DeleteQueueCommand } from '@aws-sdk/client-sqs';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { QueueMigrationStatus } from '../../src/operator/api/status-schema.ts';
import { testServerDeployment, useTestNamespace } from '../env/local-node/e2e-support.ts';
import { sqsClient } from '../env/sqs.ts';
import { required } from '../env/test-environment.ts';
import { waitUntil } from '../env/wait.ts';
import { PrivateRedis } from '../integration/services/fixtures/private-redis.ts';
import { applyMigration, useOperatorFor } from '../support/operator-process.ts';
import { QueueSettingsWatch } from './support/queue-settings-watch.ts';

// The operator as a process with config/rbac's rights. The stream Redis is a server of this file's
// own, so that its maxmemory-policy can be wrong and then fixed without touching the shared one.
describe('the dual preflight holds a migration until its Redis is safe', () => {
  const kube = required('kube');
  const sqs = required('sqs');
  const testNamespace = useTestNamespace('qm-pre');
  const { name: namespace, tools } = testNamespace;
  const operator = useOperatorFor(testNamespace);
  const { logFile } = operator.options;
  let redis: PrivateRedis;
  let queueUrl = '';

  const setPolicy = async (policy: string): Promise<void> => {
    const admin = new Redis({ port: redis.port });
    await admin.config('SET', 'maxmemory-policy', policy).finally(() => admin.quit());
  };

  const status = async (): Promise<QueueMigrationStatus> =>
    (
      JSON.parse(await tools.kubectl(['get', 'qm', 'webhooks', '-n', namespace, '-o', 'json'])) as {
        status?: QueueMigrationStatus;
      }
    ).status ?? {};

  const generations = async (): Promise<Record<string, number | undefined>> => {
    const { items } = await tools.apps.listNamespacedDeployment({ namespace });
    return Object.fromEntries(items.map((d) => [d.metadata?.name ?? '', d.metadata?.generation]));
  };

  beforeAll(async () => {
    redis = await PrivateRedis.start();
    await setPolicy('allkeys-lru');
    queueUrl = (await sqsClient(sqs).send(new CreateQueueCommand({ QueueName: namespace }))).QueueUrl ?? '';
    const env = [
      { name: 'QUEUE_TYPE', value: 'sqs' },
      { name: 'SQS_QUEUE_URL', value: queueUrl },
    ];
    for (const name of ['webhook', 'worker']) {
      await tools.apps.createNamespacedDeployment({
        namespace,
        body: testServerDeployment({ name, namespace, value: name, replicas: 1, env }),
      });
    }
    await operator.start();
  });

  afterAll(async () => {
    // Stopped before its Redis goes, so that it never acts on a stream that vanished.
    await operator.stop();
    await sqsClient(sqs).send(new DeleteQueueCommand({ QueueUrl: queueUrl }));
    await redis.dispose();
  });

  it('stays Pending with PreflightPassed=False and changes no Deployment, then starts once fixed', async () => {
    const watch = await QueueSettingsWatch.start(kube, namespace, ['webhook', 'worker']);
    const before = await generations();
    await applyMigration(tools, namespace, 'webhooks', {
      producers: [{ name: 'webhook', container: 'server' }],
      consumers: [{ name: 'worker', container: 'server' }],
      redis: { endpoint: { mode: 'standalone', address: `127.0.0.1:${redis.port}` }, stream: namespace },
      sqs: { queueUrl, region: sqs.region, endpoint: sqs.endpoint },
      stages: { dual: { duration: '10m' } },
      analysis: { interval: '1s', defaultMetrics: false },
    });
    const preflightCondition = (s: QueueMigrationStatus) =>
      s.conditions?.find((c) => c.type === 'PreflightPassed');

    await waitUntil(async () => preflightCondition(await status())?.status === 'False', {
      what: `PreflightPassed=False (log: ${logFile})`,
      timeoutMs: 60_000,
    });
    const failing = await status();
    expect(failing.phase).toBe('Pending');
    expect(preflightCondition(failing)).toMatchObject({
      reason: 'CheckFailed',
      message: expect.stringMatching(
        /^redis-eviction-policy: maxmemory-policy is allkeys-lru: .*set maxmemory-policy noeviction/,
      ) as unknown,
    });
    expect(failing.preflight?.checks.find((c) => c.name === 'redis-eviction-policy')?.outcome).toBe('failed');
    // Checked again every interval, still without touching a Deployment.
    const firstCheck = failing.preflight?.checkedAt ?? '';
    await waitUntil(async () => ((await status()).preflight?.checkedAt ?? '') > firstCheck, {
      what: 'the preflight to run again',
    });
    expect((await status()).phase).toBe('Pending');
    expect(await generations()).toEqual(before);
    expect(watch.changes).toEqual(['webhook sqs/', 'worker sqs/']);
    const { items } = await tools.core.listNamespacedEvent({
      namespace,
      fieldSelector: 'reason=PreflightFailed',
    });
    expect(items.map((e) => e.type)).toEqual(['Warning']);

    await setPolicy('noeviction');
    await waitUntil(async () => (await status()).stage === 'dual', {
      what: `the migration to start dual once the policy is fixed (log: ${logFile})`,
      timeoutMs: 60_000,
    });
    const started = await status();
    expect(started.phase).toBe('Progressing');
    expect(preflightCondition(started)).toMatchObject({ status: 'True', reason: 'ChecksPassed' });
    expect(started.preflight?.passedAt).toBeDefined();
    await waitUntil(() => watch.changes.includes('worker dual/'), { what: 'consumers to read both queues' });
    watch.stop();
    // The preflight created the stream and the group, from id 0, before the first patch.
    const admin = new Redis({ port: redis.port });
    const groups = (await admin
      .call('XINFO', 'GROUPS', namespace)
      .finally(() => admin.quit())) as unknown[][];
    expect(groups.map((g) => g[1])).toEqual(['webhook-workers']);
  });
});
