import { CreateQueueCommand, DeleteQueueCommand } from '@aws-sdk/client-sqs';
import type { V1Deployment, V1Pod, V1PodSpec } from '@kubernetes/client-node';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STAGES } from '../../src/operator/api/stages-schema.ts';
import type { QueueMigrationStatus } from '../../src/operator/api/status-schema.ts';
import { testServerDeployment, useTestNamespace } from '../env/local-node/e2e-support.ts';
import { sqsClient } from '../env/sqs.ts';
import { required } from '../env/test-environment.ts';
import { waitUntil } from '../env/wait.ts';
import { EVERY_STAGE, FINAL_GENERATIONS } from './support/migration-fixture.ts';
import { applyMigration, useOperatorFor } from '../support/operator-process.ts';
import { QueueSettingsWatch, queueSettingsOf } from './support/queue-settings-watch.ts';

interface Snapshot {
  at: string;
  column: string;
  producer: string;
  consumer: string;
  canary: string;
}

// The operator as users run it: a separate process, with a ServiceAccount token bound to
// config/rbac (never cluster admin), against Deployments whose pods the local node runs.
describe('the operator driving a QueueMigration through every stage', () => {
  const kube = required('kube');
  const sqs = required('sqs');
  const streams = required('redis').streams;
  const testNamespace = useTestNamespace('qm-op');
  const { name: namespace, tools } = testNamespace;
  const operator = useOperatorFor(testNamespace);
  let queueUrl = '';

  const getQm = async (
    name = 'webhooks',
  ): Promise<{ status?: QueueMigrationStatus; metadata: { uid: string } }> =>
    JSON.parse(await tools.kubectl(['get', 'qm', name, '-n', namespace, '-o', 'json'])) as {
      status?: QueueMigrationStatus;
      metadata: { uid: string };
    };
  const deployment = (name: string): Promise<V1Deployment> =>
    tools.apps.readNamespacedDeployment({ name, namespace });
  const queueSettings = async (name: string): Promise<string> =>
    queueSettingsOf(await deployment(name).catch(() => undefined));
  /** SQS_QUEUE_URL of a pod's first container, as the adapter reads it: an empty value is unset. */
  const queueUrlIn = (pod: V1PodSpec | undefined): string =>
    pod?.containers[0]?.env?.find((e) => e.name === 'SQS_QUEUE_URL')?.value ?? '';
  /** The queue settings, and `+sqs` while the Deployment still carries an SQS queue. */
  const queueAndSqsSettings = async (name: string): Promise<string> => {
    const found = await deployment(name).catch(() => undefined);
    return `${queueSettingsOf(found)}${queueUrlIn(found?.spec?.template.spec) === '' ? '' : ' +sqs'}`;
  };

  beforeAll(async () => {
    queueUrl = (await sqsClient(sqs).send(new CreateQueueCommand({ QueueName: namespace }))).QueueUrl ?? '';
    await createPipeline('webhook', 'worker');
    await operator.start();
  });

  /** A producer (2 pods) and a consumer (1 pod) on SQS, as the migration finds them. */
  async function createPipeline(producer: string, consumer: string): Promise<void> {
    const env = [
      { name: 'QUEUE_TYPE', value: 'sqs' },
      { name: 'SQS_QUEUE_URL', value: queueUrl },
    ];
    for (const [name, replicas] of [
      [producer, 2],
      [consumer, 1],
    ] as const) {
      await tools.apps.createNamespacedDeployment({
        namespace,
        body: testServerDeployment({ name, namespace, value: name, replicas, env }),
      });
    }
  }

  const migrate = (
    name: string,
    producer: string,
    consumer: string,
    stages: object,
    redis?: object,
  ): Promise<void> =>
    applyMigration(tools, namespace, name, {
      producers: [{ name: producer, container: 'server' }],
      consumers: [{ name: consumer, container: 'server' }],
      redis: redis ?? {
        endpoint: { mode: 'standalone', address: `${streams.host}:${String(streams.port)}` },
        stream: `${namespace}-${name}`,
      },
      sqs: { queueUrl, region: sqs.region, endpoint: sqs.endpoint },
      stages,
      // Test servers read no queue: the built-in Redis metrics (consumers in the group) would
      // rightly fail. The gates have their own e2e test (operator-analysis.test.ts).
      analysis: { interval: '1s', defaultMetrics: false },
    });

  afterAll(async () => {
    await sqsClient(sqs).send(new DeleteQueueCommand({ QueueUrl: queueUrl }));
  });

  it('passes dual, staging, canary, full and cleanup with each Deployment on the right queue at each stage', async () => {
    const started = Date.now();
    const watch = await QueueSettingsWatch.start(kube, namespace, ['webhook', 'worker', 'webhook-canary'], 2);
    watch.reset();
    await migrate('webhooks', 'webhook', 'worker', {
      dual: { duration: '2s' },
      staging: { duration: '2s' },
      canary: { steps: [{ weight: 50, duration: '2s' }] },
      full: { bakeTime: '2s', drainWindow: '3s' },
      cleanup: { stabilityWindow: '2s' },
    });
    // Sample what a user would see, `kubectl get qm` included, until the migration ends.
    const samples: Snapshot[] = [];
    const where = (status: QueueMigrationStatus | undefined): string =>
      status?.phase === 'Succeeded' ? 'Succeeded' : `${status?.stage ?? '-'}/${status?.step ?? 0}`;
    await waitUntil(
      async () => {
        const before = where((await getQm()).status);
        const [table, producer, consumer, canary] = await Promise.all([
          tools.kubectl(['get', 'qm', 'webhooks', '-n', namespace, '--no-headers']),
          queueAndSqsSettings('webhook'),
          queueAndSqsSettings('worker'),
          queueAndSqsSettings('webhook-canary'),
        ]);
        // The operator writes a transition before it changes a Deployment: if the status still
        // reads the same, every Deployment above was read during that stage.
        const after = where((await getQm()).status);
        if (after === before) {
          samples.push({
            at: before,
            column: table.trim().split(/\s+/)[1] ?? '',
            producer,
            consumer,
            canary,
          });
        }
        return samples.at(-1)?.at === 'Succeeded';
      },
      { what: 'the migration to succeed', timeoutMs: 150_000, intervalMs: 100 },
    );
    watch.stop();
    process.stderr.write(`[operator] migration passed every stage in ${Date.now() - started} ms\n`);

    // The watch misses no change however short a stage: each Deployment went through exactly the
    // designed settings, and consumers read only Redis once producers publish there first.
    const path = (name: string): string[] =>
      watch.changes.filter((c) => c.startsWith(`${name} `)).map((c) => c.slice(name.length + 1));
    expect(path('worker')).toEqual(['dual/', 'redis/']);
    expect(path('webhook')).toEqual(['sqs/redis', 'redis/sqs', 'redis/']);
    expect(path('webhook-canary')).toEqual(['redis/sqs', 'deleted']);
    const at = (change: string): number => watch.changes.indexOf(change);
    expect(at('webhook redis/sqs')).toBeLessThan(at('worker redis/'));

    // What a user saw at each position the sampling caught (a short one may slip between two
    // samples on a busy machine; none may show other settings). The last sample of a position is
    // taken once its settings landed and its rollouts finished. The SQS queue stays set while
    // anything may still read or fall back to it, and is gone by the end.
    const expected: Record<string, Omit<Snapshot, 'at' | 'column'>> = {
      '-/0': { producer: 'sqs/ +sqs', consumer: 'sqs/ +sqs', canary: 'deleted' },
      'dual/0': { producer: 'sqs/redis +sqs', consumer: 'dual/ +sqs', canary: 'deleted' },
      'staging/0': { producer: 'sqs/redis +sqs', consumer: 'dual/ +sqs', canary: 'deleted' },
      'canary/0': { producer: 'sqs/redis +sqs', consumer: 'dual/ +sqs', canary: 'redis/sqs +sqs' },
      'full/0': { producer: 'redis/sqs +sqs', consumer: 'dual/ +sqs', canary: 'deleted' },
      'full/1': { producer: 'redis/sqs +sqs', consumer: 'redis/', canary: 'deleted' },
      'cleanup/0': { producer: 'redis/sqs +sqs', consumer: 'redis/', canary: 'deleted' },
      'cleanup/1': { producer: 'redis/', consumer: 'redis/', canary: 'deleted' },
      Succeeded: { producer: 'redis/', consumer: 'redis/', canary: 'deleted' },
    };
    const lastOfEach = samples.filter((sample, i) => samples[i + 1]?.at !== sample.at);
    for (const { at: position, producer, consumer, canary } of lastOfEach) {
      expect({ position, producer, consumer, canary }).toEqual({ position, ...expected[position] });
    }
    const order = Object.keys(expected);
    const positions = lastOfEach.map((sample) => order.indexOf(sample.at));
    expect(positions.every((p, i) => p >= 0 && (i === 0 || p > (positions[i - 1] ?? -1)))).toBe(true);
    // `kubectl get qm` showed the stages in their order, and nothing else.
    const stages: readonly string[] = STAGES;
    const columns = [...new Set(samples.filter((x) => x.at !== '-/0').map((x) => x.column))];
    expect(columns).toEqual(stages.filter((stage) => columns.includes(stage)));

    // The real controllers rolled the pods: every pod left runs the final template.
    const pods = async (app: string): Promise<V1Pod[]> =>
      (await tools.core.listNamespacedPod({ namespace, labelSelector: `app=${app}` })).items;
    for (const [app, expected] of [
      ['webhook', 'redis'],
      ['worker', 'redis'],
    ] as const) {
      await waitUntil(
        async () => (await pods(app)).every((p) => p.metadata?.deletionTimestamp === undefined),
        {
          what: `old ${app} pods to go`,
        },
      );
      for (const pod of await pods(app)) {
        expect(pod.spec?.containers[0]?.env?.find((e) => e.name === 'QUEUE_TYPE')?.value).toBe(expected);
        expect(queueUrlIn(pod.spec)).toBe('');
      }
    }
    expect((await deployment('webhook')).metadata?.generation).toBe(FINAL_GENERATIONS.webhook);
    expect((await deployment('worker')).metadata?.generation).toBe(FINAL_GENERATIONS.worker);

    // Every transition has one Event with its own reason, named after its history entry.
    const qm = await getQm();
    const history = qm.status?.history ?? [];
    expect(history.map((h) => h.reason)).toEqual(EVERY_STAGE);
    const events = await tools.core.listNamespacedEvent({
      namespace,
      fieldSelector: `involvedObject.uid=${qm.metadata.uid}`,
    });
    expect(events.items.map((e) => e.reason).sort()).toEqual(history.map((h) => h.reason).sort());
  });

  it('acts on a promote token once, pauses on a GitOps-style revert, and keeps both across a SIGKILL restart', async () => {
    await createPipeline('hook2', 'work2');
    const long = { duration: '10m' };
    await migrate('gitops', 'hook2', 'work2', { dual: long, staging: long });
    const status = async (): Promise<QueueMigrationStatus> => (await getQm('gitops')).status ?? {};
    await waitUntil(async () => (await status()).message === 'dual: waiting for gates green for 600s', {
      what: 'dual to have rolled out and to wait out its duration',
      timeoutMs: 60_000,
    });
    const annotate = (control: string, token: string): Promise<string> =>
      tools.kubectl([
        'annotate',
        '--overwrite',
        'qm',
        'gitops',
        '-n',
        namespace,
        `queueshift.dev/${control}=${token}`,
      ]);

    await annotate('promote', 't1');
    await waitUntil(async () => (await status()).stage === 'staging', {
      what: 'promote to end dual',
      timeoutMs: 10_000,
    });

    // Another field manager puts the consumer back on SQS, as a GitOps tool reverting would.
    await tools.kubectl([
      'set',
      'env',
      'deployment/work2',
      '-c',
      'server',
      'QUEUE_TYPE=sqs',
      '-n',
      namespace,
    ]);
    const paused = await waitUntil(
      async () => {
        const now = await status();
        return now.phase === 'Paused' && now;
      },
      { what: 'the migration to pause on the conflict', timeoutMs: 20_000 },
    );
    expect(paused.conflict).toMatchObject({
      deployment: 'work2',
      variable: 'QUEUE_TYPE',
      manager: 'kubectl-set',
    });
    expect(paused.conditions?.find((c) => c.type === 'Paused')).toMatchObject({
      status: 'True',
      reason: 'FieldConflict',
    });
    const generation = (await deployment('work2')).metadata?.generation;

    // Killed and restarted: the handled token stays handled, the pause stays, nobody fights.
    await operator.kill('SIGKILL');
    await operator.start();
    // The restarted operator has reconciled (its first list enqueues every migration).
    await waitUntil(async () => (await operator.reconciles()) > 0, {
      what: 'the restarted operator to reconcile',
    });
    const after = await status();
    expect(after).toMatchObject({ phase: 'Paused', stage: 'staging', lastHandledTokens: { promote: 't1' } });
    expect(await queueSettings('work2')).toBe('sqs/');
    expect((await deployment('work2')).metadata?.generation).toBe(generation);
    expect((after.history ?? []).filter((h) => h.reason === 'Promoted')).toHaveLength(1);

    // Resolved: a retry token applies the operator's settings over the other manager's.
    await annotate('retry', 'r1');
    await waitUntil(
      async () => (await status()).phase === 'Progressing' && (await queueSettings('work2')) === 'dual/',
      {
        what: 'the retry to resume the migration with the consumer on dual',
        timeoutMs: 20_000,
      },
    );
    const reasons = ((await status()).history ?? []).map((h) => h.reason);
    expect(reasons).toEqual([
      'DualStarted',
      'Promoted',
      'StagingStarted',
      'FieldConflict',
      'Retried',
      'Resumed',
    ]);
    const qm = await getQm('gitops');
    const events = await tools.core.listNamespacedEvent({
      namespace,
      fieldSelector: `involvedObject.uid=${qm.metadata.uid}`,
    });
    expect(events.items.map((e) => e.reason).sort()).toEqual([...reasons].sort());
  });

  it('rolls back from canary on abort, in the order that keeps a reader on every queue, to the recorded originals', async () => {
    await createPipeline('hook3', 'work3');
    const stream = `${namespace}-e2e`;
    // The group the consumers would have created in dual: the operator reads its backlog (0).
    const redis = new Redis({ host: streams.host, port: streams.port, lazyConnect: true });
    await redis.connect();
    await redis.xgroup('CREATE', stream, 'workers', '0', 'MKSTREAM');
    await redis.quit();
    await migrate(
      'aborted',
      'hook3',
      'work3',
      {
        dual: { duration: '2s' },
        staging: { duration: '2s' },
        canary: { steps: [{ weight: 50, duration: '10m' }] },
      },
      {
        endpoint: { mode: 'standalone', address: `${streams.host}:${streams.port}` },
        stream,
        group: 'workers',
      },
    );
    const status = async (): Promise<QueueMigrationStatus> => (await getQm('aborted')).status ?? {};
    await waitUntil(async () => (await status()).message === 'canary: waiting for gates green for 600s', {
      what: 'the canary step to have rolled out',
      timeoutMs: 90_000,
    });

    // Every change to the Deployments' queue settings, as a watch sees it.
    const watch = await QueueSettingsWatch.start(kube, namespace, ['hook3', 'work3', 'hook3-canary']);
    watch.reset();
    const { changes } = watch;
    await tools.kubectl(['annotate', 'qm', 'aborted', '-n', namespace, 'queueshift.dev/abort=a1']);
    await waitUntil(async () => (await status()).phase === 'RolledBack', {
      what: 'the rollback to finish',
      timeoutMs: 120_000,
    });
    watch.stop();

    expect(changes).toEqual(['hook3-canary deleted', 'hook3 sqs/', 'work3 sqs/']);
    const final = await status();
    expect((final.history ?? []).map((h) => h.reason).slice(-6)).toEqual([
      'Aborted',
      'RollbackStarted',
      'RollbackProducersToOriginal',
      'RollbackDrainRedis',
      'RollbackConsumersToOriginal',
      'RolledBack',
    ]);
    for (const name of ['hook3', 'work3']) {
      const env = (await deployment(name)).spec?.template.spec?.containers[0]?.env ?? [];
      expect(env.map((e) => `${e.name}=${e.value ?? ''}`)).toEqual([
        'VALUE=' + name,
        'QUEUE_TYPE=sqs',
        `SQS_QUEUE_URL=${queueUrl}`,
      ]);
    }
  });
});
