import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  ApiException,
  AutoscalingV2Api,
  CoreV1Api,
  KubeConfig,
  RbacAuthorizationV1Api,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminKubeConfig, serviceAccountKubeconfig } from '../env/kube/accounts.ts';
import { useTestNamespace } from '../env/local-node/e2e-support.ts';
import { required } from '../env/test-environment.ts';
import { operatorKubeconfig } from '../support/operator-process.ts';

/** The HTTP status of a rejected call, or 200 when it went through. */
async function statusOf(call: () => Promise<unknown>): Promise<number> {
  try {
    await call();
    return 200;
  } catch (error) {
    if (error instanceof ApiException) return error.code;
    throw error;
  }
}

describe('a ServiceAccount token bound to a narrow Role', () => {
  const kube = required('kube');
  const suffix = Date.now().toString(36);
  const allowed = `rbac-allowed-${suffix}`;
  const other = `rbac-other-${suffix}`;
  let admin: CoreV1Api;
  let narrow: KubeConfig;

  beforeAll(async () => {
    const adminConfig = adminKubeConfig(kube);
    admin = adminConfig.makeApiClient(CoreV1Api);
    const rbac = adminConfig.makeApiClient(RbacAuthorizationV1Api);
    for (const name of [allowed, other]) await admin.createNamespace({ body: { metadata: { name } } });
    await admin.createNamespacedServiceAccount({
      namespace: allowed,
      body: { metadata: { name: 'reader' } },
    });
    await rbac.createNamespacedRole({
      namespace: allowed,
      body: {
        metadata: { name: 'configmap-reader' },
        rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list'] }],
      },
    });
    await rbac.createNamespacedRoleBinding({
      namespace: allowed,
      body: {
        metadata: { name: 'reader-reads-configmaps' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'configmap-reader' },
        subjects: [{ kind: 'ServiceAccount', name: 'reader', namespace: allowed }],
      },
    });
    for (const namespace of [allowed, other]) {
      await admin.createNamespacedConfigMap({
        namespace,
        body: { metadata: { name: 'settings' }, data: { a: '1' } },
      });
    }
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qs-rbac-'));
    narrow = await serviceAccountKubeconfig(
      kube,
      { namespace: allowed, name: 'reader' },
      path.join(dir, 'kubeconfig'),
    );
  });

  afterAll(async () => {
    for (const name of [allowed, other]) await admin.deleteNamespace({ name });
  });

  it('may do what its Role grants', async () => {
    const core = narrow.makeApiClient(CoreV1Api);
    const list = await core.listNamespacedConfigMap({ namespace: allowed });
    expect(list.items.map((c) => c.metadata?.name)).toContain('settings');
    const one = await core.readNamespacedConfigMap({ namespace: allowed, name: 'settings' });
    expect(one.data).toEqual({ a: '1' });
  });

  it.each([
    [
      'another verb on the same resource',
      (c: CoreV1Api) =>
        c.createNamespacedConfigMap({ namespace: allowed, body: { metadata: { name: 'new' } } }),
    ],
    [
      'another resource in the same namespace',
      (c: CoreV1Api) => c.listNamespacedSecret({ namespace: allowed }),
    ],
    [
      'the same resource in another namespace',
      (c: CoreV1Api) => c.readNamespacedConfigMap({ namespace: other, name: 'settings' }),
    ],
    ['a cluster-scoped resource', (c: CoreV1Api) => c.listNamespace()],
  ])('is refused %s', async (_what, call) => {
    expect(await statusOf(() => call(narrow.makeApiClient(CoreV1Api)))).toBe(403);
  });
});

describe('the operator’s ClusterRole from config/rbac, on Secrets and autoscalers', () => {
  const kube = required('kube');
  const namespace = useTestNamespace('rbac-operator');
  let operator: KubeConfig;

  beforeAll(async () => {
    await namespace.tools.core.createNamespacedSecret({
      namespace: namespace.name,
      body: { metadata: { name: 'redis-auth' }, stringData: { password: 'p' } },
    });
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'qs-rbac-operator-')), 'kubeconfig');
    await operatorKubeconfig(kube, namespace.tools, file);
    operator = new KubeConfig();
    operator.loadFromFile(file);
  });

  it('may get a Secret a migration names, and list autoscalers for the preflight', async () => {
    const core = operator.makeApiClient(CoreV1Api);
    const secret = await core.readNamespacedSecret({ namespace: namespace.name, name: 'redis-auth' });
    expect(Buffer.from(secret.data?.['password'] ?? '', 'base64').toString()).toBe('p');
    const autoscalers = operator.makeApiClient(AutoscalingV2Api);
    const list = await autoscalers.listNamespacedHorizontalPodAutoscaler({ namespace: namespace.name });
    expect(list.items).toEqual([]);
  });

  it.each([
    [
      'listing Secrets (every Secret of a namespace)',
      (c: CoreV1Api) => c.listNamespacedSecret({ namespace: namespace.name }),
    ],
    [
      'changing a Secret',
      (c: CoreV1Api) =>
        c.patchNamespacedSecret({ namespace: namespace.name, name: 'redis-auth', body: { data: {} } }),
    ],
    [
      'creating a Secret',
      (c: CoreV1Api) =>
        c.createNamespacedSecret({ namespace: namespace.name, body: { metadata: { name: 'other' } } }),
    ],
    [
      'deleting a Secret',
      (c: CoreV1Api) => c.deleteNamespacedSecret({ namespace: namespace.name, name: 'redis-auth' }),
    ],
  ])('is refused %s', async (_what, call) => {
    expect(await statusOf(() => call(operator.makeApiClient(CoreV1Api)))).toBe(403);
  });

  it('is refused changing an autoscaler', async () => {
    const autoscalers = operator.makeApiClient(AutoscalingV2Api);
    expect(
      await statusOf(() =>
        autoscalers.createNamespacedHorizontalPodAutoscaler({
          namespace: namespace.name,
          body: {
            metadata: { name: 'hpa' },
            spec: { scaleTargetRef: { kind: 'Deployment', name: 'worker' }, maxReplicas: 2 },
          },
        }),
      ),
    ).toBe(403);
  });
});
