import { CreateQueueCommand, DeleteQueueCommand } from '@aws-sdk/client-sqs';
import { CustomObjectsApi, type CoreV1Event } from '@kubernetes/client-node';
import { API_GROUP, API_VERSION, PLURAL } from '../../../src/operator/api/names.ts';
import type { QueueMigrationStatus } from '../../../src/operator/api/status-schema.ts';
import { adminKubeConfig } from '../../env/kube/accounts.ts';
import { kubeTools, testServerDeployment, type KubeTools } from '../../env/local-node/e2e-support.ts';
import { sqsClient } from '../../env/sqs.ts';
import type { HostPort, KubeEndpoint, SqsEndpoint } from '../../env/state.ts';
import { releaseMigrations } from '../../support/operator-process.ts';

export interface MigrationObject {
  metadata: { uid: string };
  status?: QueueMigrationStatus;
}

/** The history of an uninterrupted migration through every stage. */
export const EVERY_STAGE = [
  'DualStarted',
  'StagingStarted',
  'CanaryStepStarted',
  'FullStarted',
  'ConsumersSwitched',
  'CleanupStarted',
  'FallbackRemoved',
  'Succeeded',
];

/**
 * Generations once a migration succeeded: the producer rose at creation, dual, full and when its
 * fallback was removed; the consumer at creation, dual and when it left SQS.
 */
export const FINAL_GENERATIONS = { webhook: 4, worker: 3 };

/** Where a migration stands: stage/step, or its end. */
export const positionOf = (status: QueueMigrationStatus | undefined): string =>
  status?.phase === 'Succeeded' ? 'Succeeded' : `${status?.stage ?? '-'}/${String(status?.step ?? 0)}`;

/**
 * A namespace with a producer `webhook` (2 pods) and a consumer `worker` (1 pod) on an SQS queue of
 * their own, as a migration finds them, and one QueueMigration `webhooks` over them with short
 * stages. The pods serve HTTP and read no queue: rollout health is the only gate that applies.
 */
export class MigrationFixture {
  readonly namespace: string;
  readonly tools: KubeTools;
  private readonly sqs: SqsEndpoint;
  private readonly streams: HostPort;
  private readonly custom: CustomObjectsApi;
  private queueUrl = '';

  /** `streams`: the stream Redis, which the preflight must reach before anything changes. */
  constructor(kube: KubeEndpoint, sqs: SqsEndpoint, streams: HostPort, namespace: string) {
    this.namespace = namespace;
    this.sqs = sqs;
    this.streams = streams;
    this.tools = kubeTools(kube);
    this.custom = adminKubeConfig(kube).makeApiClient(CustomObjectsApi);
  }

  async setUp(): Promise<void> {
    const { namespace } = this;
    await this.tools.core.createNamespace({ body: { metadata: { name: namespace } } });
    const created = await sqsClient(this.sqs).send(new CreateQueueCommand({ QueueName: namespace }));
    this.queueUrl = created.QueueUrl ?? '';
    const env = [
      { name: 'QUEUE_TYPE', value: 'sqs' },
      { name: 'SQS_QUEUE_URL', value: this.queueUrl },
    ];
    for (const [name, replicas] of [
      ['webhook', 2],
      ['worker', 1],
    ] as const) {
      await this.tools.apps.createNamespacedDeployment({
        namespace,
        body: testServerDeployment({ name, namespace, value: name, replicas, env }),
      });
    }
  }

  /** After the operator stopped: nothing holds the namespace's deletion, and the queue goes. */
  async tearDown(): Promise<void> {
    await releaseMigrations(this.tools, this.namespace);
    await this.tools.kubectl(['delete', 'namespace', this.namespace, '--wait=false']);
    if (this.queueUrl !== '')
      await sqsClient(this.sqs).send(new DeleteQueueCommand({ QueueUrl: this.queueUrl }));
  }

  /** Creates the QueueMigration `webhooks`: a few seconds per stage, one canary step. */
  async startMigration(): Promise<void> {
    await this.tools.kubectl(
      ['apply', '-f', '-'],
      JSON.stringify({
        apiVersion: `${API_GROUP}/${API_VERSION}`,
        kind: 'QueueMigration',
        metadata: { name: 'webhooks', namespace: this.namespace },
        spec: {
          producers: [{ name: 'webhook', container: 'server' }],
          consumers: [{ name: 'worker', container: 'server' }],
          redis: {
            endpoint: {
              mode: 'standalone',
              address: `${this.streams.host}:${String(this.streams.port)}`,
            },
            stream: `qm-fixture-${this.namespace}`,
          },
          sqs: { queueUrl: this.queueUrl, region: this.sqs.region, endpoint: this.sqs.endpoint },
          stages: {
            dual: { duration: '2s' },
            staging: { duration: '2s' },
            canary: { steps: [{ weight: 50, duration: '2s' }] },
            full: { bakeTime: '2s', drainWindow: '3s' },
            cleanup: { stabilityWindow: '2s' },
          },
          analysis: { interval: '1s', defaultMetrics: false },
        },
      }),
    );
  }

  async migration(): Promise<MigrationObject> {
    return (await this.custom.getNamespacedCustomObject({
      group: API_GROUP,
      version: API_VERSION,
      namespace: this.namespace,
      plural: PLURAL,
      name: 'webhooks',
    })) as MigrationObject;
  }

  /** The migration's Events, in the order of the history entries they record. */
  async events(uid: string): Promise<CoreV1Event[]> {
    const { items } = await this.tools.core.listNamespacedEvent({
      namespace: this.namespace,
      fieldSelector: `involvedObject.uid=${uid}`,
    });
    const seq = (event: CoreV1Event): number => Number(event.metadata.name?.split('.').at(-1));
    return items.sort((a, b) => seq(a) - seq(b));
  }

  async generations(): Promise<Record<string, number | undefined>> {
    const { items } = await this.tools.apps.listNamespacedDeployment({ namespace: this.namespace });
    return Object.fromEntries(items.map((d) => [d.metadata?.name ?? '', d.metadata?.generation]));
  }
}
