import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CreateQueueCommand, DeleteQueueCommand } from '@aws-sdk/client-sqs';
import { loadAllYaml, type V1Deployment, type V1Pod } from '@kubernetes/client-node';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CRD_NAME } from '../../src/operator/api/names.ts';
import {
  containerPid,
  httpGet,
  kubeTools,
  podPort,
  useTestNamespace,
  waitForRollout,
} from '../env/local-node/e2e-support.ts';
import { sqsClient } from '../env/sqs.ts';
import { required } from '../env/test-environment.ts';
import { waitUntil } from '../env/wait.ts';
import { exampleDelivery, send } from '../integration/services/fixtures/deliveries.ts';
import { requiredSample } from '../integration/services/fixtures/metrics-text.ts';

const ROOT = path.join(import.meta.dirname, '../..');
const CONFIG = path.join(ROOT, 'config');
/** config/manager's namespace: namespaced objects of a dry run must name one that exists. */
const OPERATOR_NAMESPACE = 'queueshift-system';

interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
}

/** Every folder under config/ with a kustomization, found rather than listed: a new base is checked too. */
function kustomizeBases(): string[] {
  return fs
    .readdirSync(CONFIG, { recursive: true, encoding: 'utf8' })
    .filter((file) => path.basename(file) === 'kustomization.yaml')
    .map((file) => path.join('config', path.dirname(file)))
    .sort();
}

/** How `kubectl … -o name` names an object: `<kind>[.<group>]/<name>`. */
function objectName(manifest: Manifest): string {
  const group = manifest.apiVersion.includes('/') ? `.${manifest.apiVersion.split('/')[0] ?? ''}` : '';
  return `${manifest.kind.toLowerCase()}${group}/${manifest.metadata.name}`;
}

// Users install queueshift from config/ exactly as it is committed: every base must build with the
// kubectl the cluster version ships, and the API server must accept every object it produces.
describe('the kustomize bases under config/', () => {
  const kube = required('kube');
  const tools = kubeTools(kube);

  beforeAll(async () => {
    await tools.kubectl(['apply', '--server-side', '--force-conflicts', '-k', path.join(CONFIG, 'crd')]);
    await tools.kubectl(['wait', '--for=condition=Established', `crd/${CRD_NAME}`, '--timeout=60s']);
    await tools.kubectl(['create', 'namespace', OPERATOR_NAMESPACE]).catch((error: unknown) => {
      if (!String((error as { stderr?: unknown }).stderr).includes('AlreadyExists')) throw error;
    });
  });

  it('are built by a kubectl with kustomize built in', async () => {
    const version = JSON.parse(await tools.kubectl(['version', '--client', '-o', 'json'])) as {
      kustomizeVersion?: string;
    };
    expect(version.kustomizeVersion).toMatch(/^v5\./);
    expect(kustomizeBases()).toEqual(expect.arrayContaining(['config/default', 'config/samples']));
  });

  it.each(kustomizeBases())(
    '%s builds, and the API server accepts every object in a server-side dry run',
    async (base) => {
      const built = await tools.kubectl(['kustomize', path.join(ROOT, base)]);
      const manifests = (loadAllYaml(built) as (Manifest | null)[]).filter((m) => m !== null);
      expect(manifests.length).toBeGreaterThan(0);
      // Objects that name no namespace (the samples) are checked in the kubeconfig's, `default`.
      const accepted = await tools.kubectl(['apply', '--dry-run=server', '-o', 'name', '-f', '-'], built);
      expect(accepted.trim().split('\n').sort()).toEqual(manifests.map(objectName).sort());
    },
  );

  it('config/default installs the operator with leader election, probes and a locked-down pod', async () => {
    const built = await tools.kubectl(['kustomize', path.join(CONFIG, 'default')]);
    const operator = (loadAllYaml(built) as V1Deployment[]).find((o) => o.kind === 'Deployment');
    expect(operator?.metadata?.namespace).toBe(OPERATOR_NAMESPACE);
    expect(operator?.spec?.replicas).toBeGreaterThan(1);
    const pod = operator?.spec?.template.spec;
    expect(pod?.serviceAccountName).toBe('queueshift-operator');
    expect(pod?.automountServiceAccountToken).toBe(true);
    expect(pod?.securityContext).toMatchObject({
      runAsNonRoot: true,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    const [container] = pod?.containers ?? [];
    expect(container?.args).toEqual(['operator']);
    expect(container?.env?.find((variable) => variable.name === 'OPERATOR_LEASE_NAME')?.value).toBe(
      'queueshift-operator',
    );
    expect(container?.livenessProbe?.httpGet?.path).toBe('/healthz');
    expect(container?.readinessProbe?.httpGet?.path).toBe('/readyz');
    expect(Object.keys(container?.resources?.requests ?? {}).sort()).toEqual(['cpu', 'memory']);
    expect(Object.keys(container?.resources?.limits ?? {})).toEqual(['memory']);
    expect(container?.securityContext).toMatchObject({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
    });
  });
});

// The example pipeline of config/samples, run from those manifests on the local node (whose
// `queueshift*` images are this checkout's built CLI): only an overlay points it at the test
// environment's servers, the way a user's overlay points it at theirs.
describe('the sample webhook / worker pair on the local node', () => {
  const sqs = required('sqs');
  const redis = required('redis');
  const { name: namespace, tools } = useTestNamespace('manifests');
  const overlay = fs.mkdtempSync(path.join(os.tmpdir(), 'qs-manifests-'));
  const secret = randomUUID();
  const ledgerKey = `${namespace}:ledger`;
  const idempotency = new Redis({ host: redis.idempotency.host, port: redis.idempotency.port });
  const queueUrls: string[] = [];

  const createQueue = async (name: string): Promise<string> => {
    const created = await sqsClient(sqs).send(new CreateQueueCommand({ QueueName: name }));
    const url = created.QueueUrl ?? '';
    queueUrls.push(url);
    return url;
  };
  const podOf = async (app: string): Promise<V1Pod> => {
    const pods = await tools.core.listNamespacedPod({
      namespace,
      labelSelector: `app.kubernetes.io/name=${app}`,
    });
    const [pod] = pods.items;
    if (pod === undefined) throw new Error(`no ${app} pod in ${namespace}`);
    return pod;
  };

  beforeAll(async () => {
    const queueUrl = await createQueue(namespace);
    const deadLetterUrl = await createQueue(`${namespace}-dlq`);
    // Secrets and settings the sample expects its user to provide; AWS keys stand in for IRSA
    // (the emulator needs some credentials, which the default chain finds in the environment).
    const kustomization = {
      namespace,
      resources: [path.relative(overlay, path.join(CONFIG, 'samples', 'pipeline'))],
      replicas: [
        { name: 'webhook', count: 1 },
        { name: 'worker', count: 1 },
      ],
      configMapGenerator: [
        {
          name: 'github-webhooks-queue',
          behavior: 'merge',
          literals: [
            `AWS_REGION=${sqs.region}`,
            `AWS_ENDPOINT_URL=${sqs.endpoint}`,
            `SQS_QUEUE_URL=${queueUrl}`,
            `SQS_DLQ_URL=${deadLetterUrl}`,
            `SQS_WAIT_TIME_SECONDS=1`,
            `IDEMPOTENCY_KEY_PREFIX=${namespace}:idem:`,
            `LEDGER_KEY=${ledgerKey}`,
          ],
        },
      ],
      secretGenerator: [
        { name: 'github-webhook', literals: [`secret=${secret}`] },
        {
          name: 'redis-idempotency',
          literals: [`IDEMPOTENCY_REDIS_ADDRESS=${redis.idempotency.host}:${redis.idempotency.port}`],
        },
        { name: 'aws-credentials', literals: ['AWS_ACCESS_KEY_ID=test', 'AWS_SECRET_ACCESS_KEY=test'] },
      ],
      patches: [
        {
          target: { kind: 'Deployment' },
          patch: JSON.stringify([
            {
              op: 'add',
              path: '/spec/template/spec/containers/0/envFrom/-',
              value: { secretRef: { name: 'aws-credentials' } },
            },
          ]),
        },
      ],
    };
    // JSON is YAML: kustomize reads it as it is.
    fs.writeFileSync(path.join(overlay, 'kustomization.yaml'), JSON.stringify(kustomization, null, 2));
    await tools.kubectl(['apply', '-k', overlay]);
    await Promise.all([
      waitForRollout(tools, namespace, 'webhook', 120_000),
      waitForRollout(tools, namespace, 'worker', 120_000),
    ]);
  });

  afterAll(async () => {
    for (const url of queueUrls) await sqsClient(sqs).send(new DeleteQueueCommand({ QueueUrl: url }));
    await idempotency.del(ledgerKey);
    idempotency.disconnect();
    fs.rmSync(overlay, { recursive: true, force: true });
  });

  it('runs both pods Ready as processes of the built CLI, each with its own command', async () => {
    for (const app of ['webhook', 'worker']) {
      const pod = await podOf(app);
      const commandLine = fs
        .readFileSync(`/proc/${containerPid(pod)}/cmdline`, 'utf8')
        .split('\0')
        .filter(Boolean);
      expect(commandLine.slice(-2)).toEqual([path.join(ROOT, 'dist', 'src', 'cli', 'main.js'), app]);
      expect(await httpGet(podPort(pod), '/readyz')).toMatchObject({ status: 200 });
    }
  });

  it('hands a signed delivery from the webhook pod through SQS to the worker pod, which records it once', async () => {
    const webhookPort = podPort(await podOf('webhook'));
    const workerPort = podPort(await podOf('worker'));
    const delivery = exampleDelivery('push');
    // The secret reaches the webhook only through the mounted Secret: a wrong one is refused.
    expect(await send(`http://127.0.0.1:${webhookPort}/webhook`, delivery, 'not-the-secret')).toBe(401);
    expect(await send(`http://127.0.0.1:${webhookPort}/webhook`, delivery, secret)).toBe(202);
    await waitUntil(async () => (await idempotency.hget(ledgerKey, delivery.deliveryId)) === '1', {
      what: `the worker pod to record delivery ${delivery.deliveryId} in ${ledgerKey}`,
      timeoutMs: 30_000,
    });
    const metrics = (await httpGet(workerPort, '/metrics')).body;
    expect(requiredSample(metrics, 'webhook_events_processed_total', { queue_type: 'sqs' })).toBe(1);
    expect(await idempotency.hlen(ledgerKey)).toBe(1);
  });
});
