import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CreateQueueCommand, DeleteQueueCommand } from '@aws-sdk/client-sqs';
import type { V1Pod } from '@kubernetes/client-node';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { QueueMigrationStatus } from '../../src/operator/api/status-schema.ts';
import {
  httpGet,
  podPort,
  TEST_SERVER,
  testServerDeployment,
  useTestNamespace,
  waitForRollout,
} from '../env/local-node/e2e-support.ts';
import { sqsClient } from '../env/sqs.ts';
import { required } from '../env/test-environment.ts';
import { waitUntil } from '../env/wait.ts';
import { applyMigration, useOperatorFor } from '../support/operator-process.ts';

/**
 * TEST_SERVER whose fate the test decides per queue setting, through files in GATE_DIR: a pod
 * exits at start while `crash-<QUEUE_TYPE>` exists, and is ready only once `ready-<QUEUE_TYPE>`
 * does. So the template a migration leaves (`sqs`) and the one it rolls out (`dual`) can be
 * broken and held back independently.
 */
const GATED_SERVER = `
const gate = (name) => process.env.GATE_DIR + '/' + name + '-' + process.env.QUEUE_TYPE;
if (require('node:fs').existsSync(gate('crash'))) process.exit(1);
process.env.READY_FILE = gate('ready');
${TEST_SERVER}`;

const queueTypeOf = (pod: V1Pod): string | undefined =>
  pod.spec?.containers[0]?.env?.find((e) => e.name === 'QUEUE_TYPE')?.value;

const waitingReason = (pod: V1Pod): string | undefined =>
  pod.status?.containerStatuses?.[0]?.state?.waiting?.reason;

// The operator as a process with config/rbac's rights (its ReplicaSet list included). Pods of
// the template being replaced start crash-looping while the template the operator asked for is
// still becoming available: only the current template's pods judge the rollout.
describe('pods of an old template crash-looping during a healthy rollout', () => {
  const sqs = required('sqs');
  const streams = required('redis').streams;
  const testNamespace = useTestNamespace('qm-tmpl');
  const { name: namespace, tools } = testNamespace;
  const stream = namespace;
  const operator = useOperatorFor(testNamespace);
  const gateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'qs-rollout-template-'));
  let queueUrl = '';

  const workerPods = async (): Promise<V1Pod[]> =>
    (await tools.core.listNamespacedPod({ namespace, labelSelector: 'app=worker' })).items;
  const status = async (): Promise<QueueMigrationStatus> =>
    (
      JSON.parse(await tools.kubectl(['get', 'qm', 'webhooks', '-n', namespace, '-o', 'json'])) as {
        status?: QueueMigrationStatus;
      }
    ).status ?? {};

  beforeAll(async () => {
    queueUrl = (await sqsClient(sqs).send(new CreateQueueCommand({ QueueName: namespace }))).QueueUrl ?? '';
    const env = [
      { name: 'QUEUE_TYPE', value: 'sqs' },
      { name: 'SQS_QUEUE_URL', value: queueUrl },
    ];
    fs.writeFileSync(path.join(gateDir, 'ready-sqs'), '');
    await tools.apps.createNamespacedDeployment({
      namespace,
      body: testServerDeployment({ name: 'webhook', namespace, value: 'webhook', env }),
    });
    await tools.apps.createNamespacedDeployment({
      namespace,
      body: testServerDeployment({
        name: 'worker',
        namespace,
        value: 'worker',
        env: [...env, { name: 'GATE_DIR', value: gateDir }],
        command: ['node', '-e', GATED_SERVER],
      }),
    });
    await Promise.all([
      waitForRollout(tools, namespace, 'webhook'),
      waitForRollout(tools, namespace, 'worker'),
    ]);
    await operator.start();
  });

  afterAll(async () => {
    await sqsClient(sqs).send(new DeleteQueueCommand({ QueueUrl: queueUrl }));
    const redis = new Redis({ host: streams.host, port: streams.port });
    await redis.del(stream).finally(() => redis.quit());
    fs.rmSync(gateDir, { recursive: true, force: true });
  });

  it('does not fail the gate: the migration leaves dual once the new template is available', async () => {
    await applyMigration(tools, namespace, 'webhooks', {
      producers: [{ name: 'webhook', container: 'server' }],
      consumers: [{ name: 'worker', container: 'server' }],
      redis: {
        endpoint: { mode: 'standalone', address: `${streams.host}:${String(streams.port)}` },
        stream,
        group: 'workers',
      },
      sqs: { queueUrl, region: sqs.region, endpoint: sqs.endpoint },
      stages: { dual: { duration: '2s' }, staging: { duration: '10m' } },
      // The pods are HTTP test servers that read no stream: rollout health is the gate under test.
      analysis: { interval: '1s', defaultMetrics: false },
    });
    // Dual rolls out a worker pod of the new template, held unready; the old one keeps serving.
    await waitUntil(
      async () =>
        (await workerPods()).some((pod) => queueTypeOf(pod) === 'dual' && pod.status?.phase === 'Running'),
      { what: 'a running worker pod of the dual template', timeoutMs: 60_000 },
    );
    // Now the old template's pod breaks: it exits, and every restart exits again.
    fs.writeFileSync(path.join(gateDir, 'crash-sqs'), '');
    const [old] = (await workerPods()).filter((pod) => queueTypeOf(pod) === 'sqs');
    if (old === undefined) throw new Error('no worker pod of the old template left');
    await httpGet(podPort(old), '/exit');
    await waitUntil(
      async () => {
        const current = (await workerPods()).find((pod) => pod.metadata?.name === old.metadata?.name);
        return current !== undefined && waitingReason(current) === 'CrashLoopBackOff';
      },
      { what: `old-template pod ${old.metadata?.name ?? ''} in CrashLoopBackOff`, timeoutMs: 60_000 },
    );
    // Two reconciles finished since: at least one gathered its pods while the old one crash-looped.
    const seen = await operator.reconciles();
    await waitUntil(async () => (await operator.reconciles()) >= seen + 2, {
      what: 'the operator to reconcile twice more',
    });
    const during = await status();
    expect(during.phase).toBe('Progressing');
    expect(during.gates?.find((g) => g.subject === 'worker')).toMatchObject({
      gate: 'rollout-health',
      verdict: 'inconclusive',
      value: 'in progress',
    });

    // The new template becomes available; the old pod goes, and dual passes its gates.
    fs.writeFileSync(path.join(gateDir, 'ready-dual'), '');
    const final = await waitUntil(
      async () => {
        const current = await status();
        return current.stage === 'staging' || current.phase !== 'Progressing' ? current : undefined;
      },
      { what: `the migration to leave dual (log: ${operator.options.logFile})`, timeoutMs: 90_000 },
    );
    expect((final.history ?? []).map((h) => h.reason)).toEqual(['DualStarted', 'StagingStarted']);
  });
});
