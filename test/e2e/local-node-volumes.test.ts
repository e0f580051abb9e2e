import fs from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { RbacAuthorizationV1Api } from '@kubernetes/client-node';
import { adminKubeConfig } from '../env/kube/accounts.ts';
import { httpGet, isPodReady, podPort, useTestNamespace } from '../env/local-node/e2e-support.ts';
import { required } from '../env/test-environment.ts';
import { waitUntil } from '../env/wait.ts';

const MOUNTS = '/run/queueshift-local-node-test';

/**
 * The pod's program: serves what it reads from its mounted volumes, and what the API server tells
 * an in-cluster client that authenticates with the pod's projected service-account token.
 */
const IN_CLUSTER_SERVER = `
import http from 'node:http';
import fs from 'node:fs';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
const kc = new KubeConfig();
kc.loadFromCluster();
const core = kc.makeApiClient(CoreV1Api);
const namespace = fs.readFileSync('/var/run/secrets/kubernetes.io/serviceaccount/namespace', 'utf8');
const routes = {
  '/secret': () => fs.readFileSync('${MOUNTS}/secret/password', 'utf8'),
  '/config': () => fs.readFileSync('${MOUNTS}/config/app.conf', 'utf8'),
  '/scratch': () => { fs.writeFileSync('${MOUNTS}/scratch/note', 'written'); return fs.readFileSync('${MOUNTS}/scratch/note', 'utf8'); },
  '/pods': async () => JSON.stringify((await core.listNamespacedPod({ namespace })).items.map((p) => p.metadata.name)),
  '/other-namespace': async () => core.listNamespacedPod({ namespace: 'default' }).then(() => '200', (e) => String(e.code)),
};
http.createServer(async (req, res) => {
  try {
    const route = routes[req.url];
    if (!route) { res.writeHead(404); return res.end(); }
    res.end(await route());
  } catch (error) {
    res.writeHead(500);
    res.end(String(error));
  }
}).listen(Number(process.env.PORT), '127.0.0.1');
`;

// Pods get their configuration and TLS material from Secret and ConfigMap volumes, and the
// operator talks to the API server with the token Kubernetes mounts into its pod.
describe('volumes of pods on the local node', () => {
  const kube = required('kube');
  const { name: namespace, tools } = useTestNamespace('ln-vol');

  beforeAll(async () => {
    const rbac = adminKubeConfig(kube).makeApiClient(RbacAuthorizationV1Api);
    await tools.core.createNamespacedServiceAccount({
      namespace,
      body: { metadata: { name: 'pod-reader' } },
    });
    await rbac.createNamespacedRole({
      namespace,
      body: {
        metadata: { name: 'pod-reader' },
        rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['list'] }],
      },
    });
    await rbac.createNamespacedRoleBinding({
      namespace,
      body: {
        metadata: { name: 'pod-reader' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'pod-reader' },
        subjects: [{ kind: 'ServiceAccount', name: 'pod-reader', namespace }],
      },
    });
    await tools.core.createNamespacedSecret({
      namespace,
      body: { metadata: { name: 'app-secret' }, stringData: { password: 'hunter2' } },
    });
    await tools.core.createNamespacedConfigMap({
      namespace,
      body: { metadata: { name: 'app-config' }, data: { 'settings.ini': 'mode=fast\n', unused: 'x' } },
    });
  });

  it('mounts Secret, ConfigMap and emptyDir volumes, and the service-account token works in-cluster', async () => {
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'in-cluster', namespace },
      spec: {
        serviceAccountName: 'pod-reader',
        containers: [
          {
            name: 'app',
            image: 'node:22',
            command: ['node', '--input-type=module', '-e', IN_CLUSTER_SERVER],
            readinessProbe: { httpGet: { path: '/secret', port: 8080 }, periodSeconds: 1 },
            volumeMounts: [
              { name: 'secret', mountPath: `${MOUNTS}/secret` },
              { name: 'config', mountPath: `${MOUNTS}/config` },
              { name: 'scratch', mountPath: `${MOUNTS}/scratch` },
            ],
          },
        ],
        volumes: [
          { name: 'secret', secret: { secretName: 'app-secret' } },
          {
            name: 'config',
            configMap: { name: 'app-config', items: [{ key: 'settings.ini', path: 'app.conf' }] },
          },
          { name: 'scratch', emptyDir: {} },
        ],
      },
    };
    await tools.kubectl(['apply', '-f', '-'], JSON.stringify(pod));
    const ready = await waitUntil(
      async () => {
        const current = await tools.core.readNamespacedPod({ name: 'in-cluster', namespace });
        return isPodReady(current) && current;
      },
      { what: `pod ${namespace}/in-cluster to be Ready`, timeoutMs: 60_000, intervalMs: 200 },
    );
    const port = podPort(ready);
    expect(await httpGet(port, '/secret')).toEqual({ status: 200, body: 'hunter2' });
    expect(await httpGet(port, '/config')).toEqual({ status: 200, body: 'mode=fast\n' });
    expect(await httpGet(port, '/scratch')).toEqual({ status: 200, body: 'written' });
    // The Role lets the pod's ServiceAccount list pods in its own namespace, and nothing else.
    const listed = await httpGet(port, '/pods');
    expect(listed.status).toBe(200);
    expect(JSON.parse(listed.body)).toEqual(['in-cluster']);
    expect(await httpGet(port, '/other-namespace')).toEqual({ status: 200, body: '403' });
    // The mounts exist in the container's mount namespace only.
    expect(fs.existsSync(`${MOUNTS}/secret/password`)).toBe(false);
  });
});
