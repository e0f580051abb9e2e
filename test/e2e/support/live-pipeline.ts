import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CreateQueueCommand, DeleteQueueCommand } from '@aws-sdk/client-sqs';
import type { V1EnvVar } from '@kubernetes/client-node';
import { Redis } from 'ioredis';
import { API_GROUP, API_VERSION } from '../../../src/operator/api/names.ts';
import type { QueueMigrationStatus } from '../../../src/operator/api/status-schema.ts';
import { useTestNamespace, waitForRollout, type KubeTools } from '../../env/local-node/e2e-support.ts';
import { sqsClient } from '../../env/sqs.ts';
import type { KubeEndpoint, RedisEndpoints, SqsEndpoint } from '../../env/state.ts';
import { required } from '../../env/test-environment.ts';
import { waitUntil } from '../../env/wait.ts';
import { settledAccount, type DeliveryAccount } from './delivery-ledger.ts';
import {
  namespaceOperator,
  operatorKubeconfig,
  releaseMigrations,
  type OperatorProcess,
} from '../../support/operator-process.ts';
import { readyWebhookUrls, serviceDeployment } from './pipeline.ts';
import { SteadyLoad, type LoadReport } from './steady-load.ts';

export interface LivePipelineOptions {
  kube: KubeEndpoint;
  sqs: SqsEndpoint;
  redis: RedisEndpoints;
  tools: KubeTools;
  /** Created by the caller (useTestNamespace in tests); everything of the pipeline lives there. */
  namespace: string;
  /** Default 2. */
  webhookReplicas?: number;
  /** Default 2. */
  workerReplicas?: number;
  /** Added to (or overriding) the worker container's env. */
  workerEnv?: V1EnvVar[];
  /** Added to (or overriding) the webhook container's env. */
  webhookEnv?: V1EnvVar[];
}

/** What a test chooses of a pipeline; the environment and the test namespace give the rest. */
export type LivePipelineSettings = Omit<
  LivePipelineOptions,
  'kube' | 'sqs' | 'redis' | 'tools' | 'namespace'
>;

/** A pipeline on the environment's servers, in a namespace of the test file's own (useTestNamespace). */
export function pipelineInTestNamespace(prefix: string, settings: LivePipelineSettings = {}): LivePipeline {
  const { name: namespace, tools } = useTestNamespace(prefix);
  return new LivePipeline({
    kube: required('kube'),
    sqs: required('sqs'),
    redis: required('redis'),
    tools,
    namespace,
    ...settings,
  });
}

/** The stage settings a migration under test goes through: seconds per stage, one canary step. */
export const SHORT_STAGES = {
  dual: { duration: '5s' },
  staging: { duration: '2s' },
  canary: { steps: [{ weight: 50, duration: '5s' }] },
  full: { bakeTime: '5s', drainWindow: '3s' },
  cleanup: { stabilityWindow: '3s' },
};

const WEBHOOK = 'webhook';
const WORKER = 'worker';

function merged(base: V1EnvVar[], extra: V1EnvVar[] | undefined): V1EnvVar[] {
  const names = new Set((extra ?? []).map((e) => e.name));
  return [...base.filter((e) => !names.has(e.name)), ...(extra ?? [])];
}

/** The env of a pipeline service (webhook or worker) on the emulator's queue `queueUrl`. */
export function sqsQueueEnv(sqs: SqsEndpoint, queueUrl: string): V1EnvVar[] {
  return [
    { name: 'QUEUE_TYPE', value: 'sqs' },
    { name: 'SQS_QUEUE_URL', value: queueUrl },
    { name: 'AWS_REGION', value: sqs.region },
    { name: 'AWS_ENDPOINT_URL', value: sqs.endpoint },
    { name: 'AWS_ACCESS_KEY_ID', value: 'test' },
    { name: 'AWS_SECRET_ACCESS_KEY', value: 'test' },
    { name: 'SQS_WAIT_TIME_SECONDS', value: '1' },
  ];
}

/**
 * The system queueshift migrates, as users run it, in one namespace: a webhook Deployment and a
 * worker Deployment of the project's image on an SQS queue of their own, the worker's idempotency
 * store and ledger on the idempotency Redis (apart from the stream Redis, so faulting the queue
 * never blinds the count), and the operator as a process with config/rbac's rights. Tests, the
 * fault scenarios and `npm run demo` all drive the same pipeline.
 */
export class LivePipeline {
  readonly namespace: string;
  readonly tools: KubeTools;
  readonly secret = randomUUID();
  readonly ledgerKey = `qs-live:${randomUUID()}:ledger`;
  readonly keyPrefix: string;
  readonly stream: string;
  readonly workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'qs-live-'));
  queueUrl = '';
  operator: OperatorProcess | undefined;
  private lastEndpoints: readonly string[] = [];
  private readonly options: LivePipelineOptions;
  private readonly ledger: Redis;

  constructor(options: LivePipelineOptions) {
    this.options = options;
    this.namespace = options.namespace;
    this.tools = options.tools;
    this.keyPrefix = `qs-live:${options.namespace}:`;
    this.stream = `qs-live-${options.namespace}`;
    const { idempotency } = options.redis;
    this.ledger = new Redis({ host: idempotency.host, port: idempotency.port, lazyConnect: true });
  }

  /** The queue, the webhook secret and both Deployments on SQS, rolled out. */
  async setUp(): Promise<void> {
    const { sqs, redis, namespace, tools } = this.options;
    const created = await sqsClient(sqs).send(new CreateQueueCommand({ QueueName: namespace }));
    this.queueUrl = created.QueueUrl ?? '';
    await tools.core.createNamespacedSecret({
      namespace,
      body: { metadata: { name: 'github-webhook' }, stringData: { secret: this.secret } },
    });
    const sqsEnv = sqsQueueEnv(sqs, this.queueUrl);
    await tools.apps.createNamespacedDeployment({
      namespace,
      body: serviceDeployment({
        name: WEBHOOK,
        namespace,
        command: 'webhook',
        replicas: this.options.webhookReplicas ?? 2,
        env: merged(
          [
            ...sqsEnv,
            {
              name: 'WEBHOOK_SECRET',
              valueFrom: { secretKeyRef: { name: 'github-webhook', key: 'secret' } },
            },
            // A pod being replaced keeps serving until the load generator (as a Service) drops it.
            { name: 'WEBHOOK_SHUTDOWN_DELAY', value: '2s' },
          ],
          this.options.webhookEnv,
        ),
      }),
    });
    await tools.apps.createNamespacedDeployment({
      namespace,
      body: serviceDeployment({
        name: WORKER,
        namespace,
        command: 'worker',
        replicas: this.options.workerReplicas ?? 2,
        env: merged(
          [
            ...sqsEnv,
            {
              name: 'IDEMPOTENCY_REDIS_ADDRESS',
              value: `${redis.idempotency.host}:${String(redis.idempotency.port)}`,
            },
            { name: 'IDEMPOTENCY_KEY_PREFIX', value: this.keyPrefix },
            { name: 'LEDGER_KEY', value: this.ledgerKey },
            { name: 'WORKER_COUNT', value: '16' },
            { name: 'REDIS_BLOCK_DURATION', value: '500ms' },
          ],
          this.options.workerEnv,
        ),
      }),
    });
    await Promise.all([
      waitForRollout(tools, namespace, WEBHOOK, 120_000),
      waitForRollout(tools, namespace, WORKER, 120_000),
    ]);
  }

  /** Starts the operator, watching this namespace only, with its ServiceAccount's rights. */
  async startOperator(): Promise<OperatorProcess> {
    const replica = namespaceOperator(this.namespace, this.workDir);
    await operatorKubeconfig(this.options.kube, this.tools, replica.options.kubeconfig);
    await replica.start();
    this.operator = replica;
    return replica;
  }

  /** The QueueMigration `live` over this pipeline; `spec` is merged over the defaults. */
  migration(spec: Record<string, unknown> = {}): Record<string, unknown> {
    const { redis, sqs } = this.options;
    return {
      apiVersion: `${API_GROUP}/${API_VERSION}`,
      kind: 'QueueMigration',
      metadata: { name: 'live', namespace: this.namespace },
      spec: {
        producers: [{ name: WEBHOOK, container: 'webhook' }],
        consumers: [{ name: WORKER, container: 'worker' }],
        redis: {
          endpoint: { mode: 'standalone', address: `${redis.streams.host}:${String(redis.streams.port)}` },
          stream: this.stream,
          group: 'workers',
        },
        sqs: { queueUrl: this.queueUrl, region: sqs.region, endpoint: sqs.endpoint },
        stages: SHORT_STAGES,
        analysis: { interval: '1s' },
        ...spec,
      },
    };
  }

  async applyMigration(spec: Record<string, unknown> = {}): Promise<void> {
    await this.tools.kubectl(['apply', '-f', '-'], JSON.stringify(this.migration(spec)));
  }

  async migrationStatus(): Promise<QueueMigrationStatus | undefined> {
    const qm = JSON.parse(
      await this.tools.kubectl(['get', 'qm', 'live', '-n', this.namespace, '-o', 'json']),
    ) as { status?: QueueMigrationStatus };
    return qm.status;
  }

  /** Waits for the migration to reach `phase`, and returns its status then. */
  async waitForPhase(phase: string, timeoutMs = 300_000): Promise<QueueMigrationStatus> {
    return waitUntil(
      async () => {
        const status = await this.migrationStatus();
        return status?.phase === phase ? status : undefined;
      },
      { what: `the migration to reach ${phase}`, timeoutMs, intervalMs: 500 },
    );
  }

  /** Signed real payloads at `ratePerSecond` to the ready webhook pods, as a Service spreads them. */
  startLoad(ratePerSecond: number): SteadyLoad {
    const load = new SteadyLoad({
      ratePerSecond,
      secret: this.secret,
      targets: () => this.serviceEndpoints(),
    });
    load.start();
    return load;
  }

  /** Starts the load and resolves once a second's worth of deliveries was accepted (through SQS). */
  async startFlowingLoad(ratePerSecond: number): Promise<SteadyLoad> {
    const load = this.startLoad(ratePerSecond);
    await waitUntil(() => load.acceptedCount >= ratePerSecond, {
      what: 'the load to flow',
      timeoutMs: 30_000,
    });
    return load;
  }

  /** Stops the load and counts, once every accepted delivery had its time to be handled. */
  async settle(load: SteadyLoad): Promise<{ load: LoadReport; account: DeliveryAccount }> {
    const report = await load.stop();
    const account = await settledAccount(
      this.ledger,
      { ledgerKey: this.ledgerKey, keyPrefix: this.keyPrefix },
      report,
    );
    return { load: report, account };
  }

  /**
   * The ready webhook URLs; while the API server does not answer (a restart), the last ones read,
   * as a Service's endpoints outlive an API server restart.
   */
  private async serviceEndpoints(): Promise<readonly string[]> {
    try {
      this.lastEndpoints = await readyWebhookUrls(this.tools, this.namespace, WEBHOOK);
    } catch {
      // The API server is away; traffic keeps its routes.
    }
    return this.lastEndpoints;
  }

  /**
   * Counts the reports of loads that ran one after another (a run in phases, each stopped and
   * checked on its own) together, once every delivery any of them had accepted had its time to be
   * handled.
   */
  async settleAll(reports: readonly LoadReport[]): Promise<{ load: LoadReport; account: DeliveryAccount }> {
    const refused: Record<string, number> = {};
    for (const [reason, count] of reports.flatMap((r) => Object.entries(r.refused)))
      refused[reason] = (refused[reason] ?? 0) + count;
    const report: LoadReport = {
      sent: reports.reduce((sum, r) => sum + r.sent, 0),
      accepted: new Set(reports.flatMap((r) => [...r.accepted])),
      refused,
      redirected: reports.reduce((sum, r) => sum + r.redirected, 0),
      durationMs: reports.reduce((sum, r) => sum + r.durationMs, 0),
    };
    const account = await settledAccount(
      this.ledger,
      { ledgerKey: this.ledgerKey, keyPrefix: this.keyPrefix },
      report,
    );
    return { load: report, account };
  }

  /** Delivery ids the ledger handler recorded, accepted or not: a refused one there was published. */
  async ledgerIds(): Promise<string[]> {
    return this.ledger.hkeys(this.ledgerKey);
  }

  /** How many deliveries the ledger handler has recorded so far (`ping`s are handled without an entry). */
  async ledgerSize(): Promise<number> {
    return this.ledger.hlen(this.ledgerKey);
  }

  async tearDown(): Promise<void> {
    await this.operator?.stop();
    await releaseMigrations(this.tools, this.namespace);
    if (this.queueUrl !== '')
      await sqsClient(this.options.sqs).send(new DeleteQueueCommand({ QueueUrl: this.queueUrl }));
    this.ledger.disconnect();
  }
}
