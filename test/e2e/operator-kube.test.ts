import { CoreV1Api, KubeConfig, type V1ConfigMap } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/adapter/index.ts';
import { KubeApi } from '../../src/operator/kube/kube-api.ts';
import { kubeConfigCredentials } from '../../src/operator/kube/kube-credentials-of-kube-config.ts';
import { LeaderLease } from '../../src/operator/kube/leader-lease.ts';
import { listWatch } from '../../src/operator/kube/list-watch.ts';
import { adminKubeConfig } from '../env/kube/accounts.ts';
import { required } from '../env/test-environment.ts';
import { waitUntil } from '../env/wait.ts';
import { TcpProxy } from '../integration/adapter/fixtures/tcp-proxy.ts';

/** An admin KubeConfig whose server is reached through `port` (a proxy the test can cut). */
function throughPort(config: KubeConfig, port: number): KubeConfig {
  const copy = new KubeConfig();
  copy.loadFromString(config.exportConfig());
  const cluster = copy.getCurrentCluster();
  if (cluster === null) throw new Error('no cluster');
  const server = new URL(cluster.server);
  server.port = String(port);
  copy.loadFromOptions({
    clusters: copy.clusters.map((c) => ({ ...c, server: server.toString().replace(/\/$/, '') })),
    users: copy.users,
    contexts: copy.contexts,
    currentContext: copy.currentContext,
  });
  return copy;
}

// The controller's own watch and leader election, against the real API server: client-node's
// informer stops on errors, so these must recover by themselves.
describe('the operator’s Kubernetes machinery', () => {
  const kube = required('kube');
  const namespace = `qm-kube-${Date.now().toString(36)}`;
  const admin = adminKubeConfig(kube);
  const core = admin.makeApiClient(CoreV1Api);
  let proxy: TcpProxy;

  beforeAll(async () => {
    await core.createNamespace({ body: { metadata: { name: namespace } } });
    const server = new URL(admin.getCurrentCluster()?.server ?? '');
    proxy = await TcpProxy.start({ host: server.hostname, port: Number(server.port) });
  });

  afterAll(async () => {
    await proxy.close();
    await core.deleteNamespace({ name: namespace });
  });

  const configMap = (name: string, value: string): Promise<V1ConfigMap> =>
    core.createNamespacedConfigMap({ namespace, body: { metadata: { name }, data: { value } } });

  it('keeps watching across cut connections: it lists again and misses nothing changed meanwhile', async () => {
    const api = new KubeApi(kubeConfigCredentials(throughPort(admin, proxy.port)));
    const seen = new Map<string, string>();
    let lists = 0;
    const restarts: unknown[] = [];
    const stop = new AbortController();
    const running = listWatch<V1ConfigMap>(
      {
        api,
        path: `/api/v1/namespaces/${namespace}/configmaps`,
        onList: (items) => {
          lists += 1;
          for (const item of items) seen.set(item.metadata?.name ?? '', item.data?.value ?? '');
        },
        onEvent: (type, item) => {
          if (type !== 'DELETED') seen.set(item.metadata?.name ?? '', item.data?.value ?? '');
        },
        resyncMs: 600_000,
        clock: systemClock,
        initialBackoffMs: 100,
        maxBackoffMs: 400,
        onRestart: (error) => restarts.push(error),
      },
      stop.signal,
    );
    await configMap('first', 'one');
    await waitUntil(() => seen.get('first') === 'one', { what: 'the watch to see the first ConfigMap' });
    expect(lists).toBe(1);

    proxy.cutConnections();
    await waitUntil(() => restarts.length >= 1, { what: 'the watch to notice the cut' });
    await configMap('second', 'two');
    await waitUntil(() => restarts.length >= 2, { what: 'a relist to fail while the proxy refuses' });
    proxy.restore();
    await waitUntil(() => seen.get('second') === 'two', {
      what: 'the relist to bring the change made while cut',
    });
    expect(lists).toBeGreaterThanOrEqual(2);
    expect(String(restarts[0])).toMatch(/KUBE_API_FAILED: GET \/api\/v1\/namespaces\/.+\/configmaps\?/);

    await configMap('third', 'three');
    await waitUntil(() => seen.get('third') === 'three', { what: 'the restarted watch to see a new change' });
    stop.abort();
    await running;
  });

  it('lists everything again every resync period, whatever the watch says', async () => {
    const api = new KubeApi(kubeConfigCredentials(admin));
    let lists = 0;
    const stop = new AbortController();
    const running = listWatch<V1ConfigMap>(
      {
        api,
        path: `/api/v1/namespaces/${namespace}/configmaps`,
        onList: () => (lists += 1),
        onEvent: () => undefined,
        resyncMs: 1_500,
        clock: systemClock,
        initialBackoffMs: 100,
        maxBackoffMs: 400,
        onRestart: () => undefined,
      },
      stop.signal,
    );
    const started = Date.now();
    await waitUntil(() => lists >= 3, { what: 'three lists', timeoutMs: 10_000 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(3_000);
    stop.abort();
    await running;
  });

  it('elects one leader on a Lease, hands over after expiry, and at once on release', async () => {
    const api = new KubeApi(kubeConfigCredentials(admin));
    const candidate = (identity: string): LeaderLease =>
      new LeaderLease({
        api,
        namespace,
        name: 'leader',
        identity,
        leaseDurationMs: 2_000,
        clock: systemClock,
      });
    const a = candidate('replica-a');
    const b = candidate('replica-b');
    expect(await a.tryAcquireOrRenew()).toBe(true);
    expect(await b.tryAcquireOrRenew()).toBe(false);
    expect(await a.tryAcquireOrRenew()).toBe(true);
    expect(await b.tryAcquireOrRenew()).toBe(false);

    // a stops renewing (killed): b takes over once the lease has not changed for its duration.
    const stoppedAt = Date.now();
    await waitUntil(() => b.tryAcquireOrRenew(), {
      what: 'b to take the expired lease',
      timeoutMs: 10_000,
      intervalMs: 200,
    });
    const handover = Date.now() - stoppedAt;
    expect(handover).toBeGreaterThanOrEqual(2_000);
    expect(handover).toBeLessThan(4_000);
    expect(await a.tryAcquireOrRenew()).toBe(false);

    // b shuts down gracefully: a takes over without waiting for expiry.
    await b.release();
    expect(await a.tryAcquireOrRenew()).toBe(true);
    const lease = await api.request<{ spec: { holderIdentity: string; leaseTransitions: number } }>(
      'GET',
      `/apis/coordination.k8s.io/v1/namespaces/${namespace}/leases/leader`,
    );
    expect(lease.spec).toMatchObject({ holderIdentity: 'replica-a', leaseTransitions: 2 });
  });
});
