import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serviceAccountKubeconfig } from '../env/kube/accounts.ts';
import { testServerDeployment, useTestNamespace } from '../env/local-node/e2e-support.ts';
import type { KubeEndpoint } from '../env/state.ts';
import { required } from '../env/test-environment.ts';
import { waitUntil } from '../env/wait.ts';
import { TcpProxy } from '../integration/adapter/fixtures/tcp-proxy.ts';
import { QueueSettingsWatch, QueueSettingsWatchBrokenError } from './support/queue-settings-watch.ts';

/** What reading the watch's record throws; undefined while it reads. */
function readError(watch: QueueSettingsWatch): unknown {
  try {
    expect(watch.changes).toBeDefined();
    return undefined;
  } catch (error) {
    return error;
  }
}

// The harness's record of "every Deployment change" must survive what the API server does to long
// watches (ends them after timeoutSeconds, drops them on a restart), or assertions on it pass or
// fail for the wrong reason. Nothing shared is restarted: the watch reaches the server through a
// proxy of its own that the test cuts.
describe('QueueSettingsWatch against the real API server', () => {
  const kube = required('kube');
  const { name: namespace, tools } = useTestNamespace('qs-watch');
  let proxy: TcpProxy;
  /** The environment's API server as seen through `proxy`, with the rights of Kubernetes' `view` role. */
  let proxied: KubeEndpoint;

  beforeAll(async () => {
    const server = new URL(kube.server);
    proxy = await TcpProxy.start({ host: server.hostname, port: Number(server.port) });
    await tools.kubectl(['create', 'serviceaccount', 'watcher', '-n', namespace]);
    await tools.kubectl([
      'create',
      'rolebinding',
      'watcher-views',
      '--clusterrole=view',
      `--serviceaccount=${namespace}:watcher`,
      '-n',
      namespace,
    ]);
    const proxiedServer = `${server.protocol}//${server.hostname}:${String(proxy.port)}`;
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'qs-watch-')), 'kubeconfig');
    await serviceAccountKubeconfig({ ...kube, server: proxiedServer }, { namespace, name: 'watcher' }, file);
    proxied = { ...kube, server: proxiedServer, kubeconfig: file };
  });

  afterAll(async () => {
    await proxy.close();
  });

  /** A Deployment of no pods whose container says QUEUE_TYPE=sqs: only its spec matters here. */
  async function deployment(name: string): Promise<void> {
    await tools.apps.createNamespacedDeployment({
      namespace,
      body: testServerDeployment({
        name,
        namespace,
        value: name,
        replicas: 0,
        env: [{ name: 'QUEUE_TYPE', value: 'sqs' }],
      }),
    });
  }

  const setQueueType = (name: string, value: string): Promise<string> =>
    tools.kubectl(['set', 'env', `deployment/${name}`, '-n', namespace, `QUEUE_TYPE=${value}`]);

  it('goes on after the server ends its watch requests, and records each change once across the lists', async () => {
    await deployment('ended');
    // Watch requests of 2 s (the resync period bounds them), each ended by the server.
    const watch = await QueueSettingsWatch.start(kube, namespace, ['ended'], 1, { resyncMs: 1_500 });
    try {
      expect(watch.changes).toEqual(['ended sqs/']);
      await waitUntil(() => watch.lists >= 3, { what: 'two watch requests to end', timeoutMs: 20_000 });

      await setQueueType('ended', 'redis');
      await waitUntil(() => watch.changes.includes('ended redis/'), {
        what: 'the change made after the first watches ended',
      });
      const listsBefore = watch.lists;
      await waitUntil(() => watch.lists >= listsBefore + 2, {
        what: 'two more lists that show the same version',
        timeoutMs: 20_000,
      });
      await tools.apps.deleteNamespacedDeployment({ name: 'ended', namespace });
      await waitUntil(() => watch.changes.includes('ended deleted'), { what: 'the deletion' });

      expect(watch.changes).toEqual(['ended sqs/', 'ended redis/', 'ended deleted']);
    } finally {
      watch.stop();
    }
  });

  it('sees a change made while its connection was cut, and the ones after, once each', async () => {
    await deployment('cut');
    const watch = await QueueSettingsWatch.start(proxied, namespace, ['cut']);
    try {
      watch.reset();
      proxy.cutConnections();
      // The list after the cut is refused too: the change lands while nothing watches.
      await setQueueType('cut', 'dual');
      proxy.restore();
      await waitUntil(() => watch.changes.includes('cut dual/'), {
        what: 'the list after the cut to bring the change made meanwhile',
      });
      expect(watch.lists).toBeGreaterThanOrEqual(2);

      await setQueueType('cut', 'redis');
      await waitUntil(() => watch.changes.includes('cut redis/'), {
        what: 'the resumed watch to see a change made after it came back',
      });
      expect(watch.changes).toEqual(['cut dual/', 'cut redis/']);
    } finally {
      proxy.restore();
      watch.stop();
    }
  });

  it('throws at the next read when it cannot resume within its budget, and keeps throwing once back', async () => {
    await deployment('lost');
    const watch = await QueueSettingsWatch.start(proxied, namespace, ['lost'], 1, { resumeWithinMs: 2_000 });
    try {
      proxy.cutConnections();
      const failure = await waitUntil(() => readError(watch), {
        what: 'reading the changes to fail',
        timeoutMs: 20_000,
      });
      expect(failure).toBeInstanceOf(QueueSettingsWatchBrokenError);
      expect(failure).toMatchObject({ code: 'QUEUE_SETTINGS_WATCH_BROKEN' });
      expect(String(failure)).toMatch(
        new RegExp(`Deployments in ${namespace} could not resume within 2000 ms.*KUBE_API_FAILED`),
      );

      // Back, but a change made in the gap could be missing: the record stays untrustworthy.
      const listsBefore = watch.lists;
      proxy.restore();
      await waitUntil(() => watch.lists > listsBefore, {
        what: 'the watch to list again',
        timeoutMs: 20_000,
      });
      expect(() => watch.changes).toThrow(QueueSettingsWatchBrokenError);
    } finally {
      proxy.restore();
      watch.stop();
    }
  });
});
