import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { V1Pod } from '@kubernetes/client-node';
import { afterAll, describe, expect, it } from 'vitest';
import {
  containerPid,
  httpGet,
  isPodReady,
  isProcessRunning,
  podPort,
  testServerDeployment,
  useTestNamespace,
  waitForRollout,
} from '../env/local-node/e2e-support.ts';
import { isListening } from '../env/ports.ts';
import { waitUntil } from '../env/wait.ts';

// The local node is what makes Deployments real in the test environment: the controller manager
// computes rollouts, and the node must start, probe, signal and stop processes the way a kubelet
// does, or every operator test built on rollouts proves nothing.
describe('a Deployment on the local node', () => {
  const { name: namespace, tools } = useTestNamespace('ln-deploy');
  const markers = fs.mkdtempSync(path.join(os.tmpdir(), 'qs-ln-markers-'));

  interface Variant {
    extraEnv?: { name: string; value: string }[];
    replicas?: number;
    command?: string[];
  }
  const deployment = (name: string, value: string, variant: Variant = {}): object =>
    testServerDeployment({
      name,
      namespace,
      value,
      replicas: variant.replicas ?? 2,
      terminationGracePeriodSeconds: 10,
      ...(variant.command !== undefined && { command: variant.command }),
      env: [
        { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
        { name: 'MARKER_DIR', value: markers },
        ...(variant.extraEnv ?? []),
      ],
      readinessProbe: { httpGet: { path: '/ready', port: 8080 }, periodSeconds: 1, failureThreshold: 1 },
    });
  const apply = (manifest: object): Promise<string> =>
    tools.kubectl(['apply', '-f', '-'], JSON.stringify(manifest));
  const pods = async (app: string): Promise<V1Pod[]> =>
    (await tools.core.listNamespacedPod({ namespace, labelSelector: `app=${app}` })).items;
  const waitRolledOut = (name: string, timeoutMs = 60_000): Promise<true> =>
    waitForRollout(tools, namespace, name, timeoutMs);

  afterAll(() => {
    fs.rmSync(markers, { recursive: true, force: true });
  });

  it('runs both replicas as processes that serve on their annotated port, and becomes Available', async () => {
    const started = Date.now();
    await apply(deployment('web', 'one'));
    await waitRolledOut('web');
    const elapsed = Date.now() - started;
    const running = await pods('web');
    expect(running).toHaveLength(2);
    for (const pod of running) {
      expect(isPodReady(pod)).toBe(true);
      expect(pod.spec?.nodeName).toBe('local-node');
      expect(pod.status?.podIP).toBe('127.0.0.1');
      expect(isProcessRunning(containerPid(pod))).toBe(true);
      expect(await httpGet(podPort(pod), '/value')).toEqual({ status: 200, body: 'one' });
    }
    expect(new Set(running.map(podPort)).size).toBe(2);
    process.stderr.write(`[local-node] 2-replica Deployment Available after ${elapsed} ms\n`);
  });

  it('rolls the pods on a template change: new processes serve the new value, old ones got SIGTERM first', async () => {
    const old = (await pods('web')).map((pod) => ({
      name: pod.metadata?.name ?? '',
      pid: containerPid(pod),
      marker: path.join(markers, pod.metadata?.name ?? ''),
    }));
    const started = Date.now();
    await apply(deployment('web', 'two'));
    // Watch each old pod until it is gone from the API server; its marker must exist by then.
    const goneWithoutMarker: string[] = [];
    const gone = new Set<string>();
    await waitUntil(
      async () => {
        for (const pod of old) {
          if (gone.has(pod.name)) continue;
          const markerBefore = fs.existsSync(pod.marker);
          const exists = await tools.core
            .readNamespacedPod({ name: pod.name, namespace })
            .then(() => true)
            .catch(() => false);
          if (!exists) {
            gone.add(pod.name);
            if (!markerBefore && !fs.existsSync(pod.marker)) goneWithoutMarker.push(pod.name);
          }
        }
        return gone.size === old.length;
      },
      { what: 'the old pods to be deleted', timeoutMs: 60_000, intervalMs: 100 },
    );
    await waitRolledOut('web');
    process.stderr.write(`[local-node] rollout of 2 replicas finished after ${Date.now() - started} ms\n`);
    expect(goneWithoutMarker).toEqual([]);
    for (const pod of old) {
      expect(fs.readFileSync(pod.marker, 'utf8')).toMatch(/^SIGTERM at \d+$/);
      expect(isProcessRunning(pod.pid)).toBe(false);
    }
    const current = await pods('web');
    expect(current.map((p) => p.metadata?.name).filter((n) => old.some((o) => o.name === n))).toEqual([]);
    for (const pod of current) {
      expect(await httpGet(podPort(pod), '/value')).toEqual({ status: 200, body: 'two' });
    }
  });

  it('restarts a process that exits and counts the restart', async () => {
    const [pod] = await pods('web');
    if (!pod) throw new Error('no web pod');
    const name = pod.metadata?.name ?? '';
    const pid = containerPid(pod);
    await httpGet(podPort(pod), '/exit');
    const restarted = await waitUntil(
      async () => {
        const now = await tools.core.readNamespacedPod({ name, namespace });
        const status = now.status?.containerStatuses?.[0];
        return status?.restartCount === 1 && status.ready && isPodReady(now) && now;
      },
      { what: `pod ${name} to restart its container`, timeoutMs: 30_000, intervalMs: 100 },
    );
    const status = restarted.status?.containerStatuses?.[0];
    expect(status?.lastState?.terminated?.exitCode).toBe(3);
    expect(status?.lastState?.terminated?.reason).toBe('Error');
    expect(isProcessRunning(pid)).toBe(false);
    expect(containerPid(restarted)).not.toBe(pid);
    expect(restarted.metadata?.uid).toBe(pod.metadata?.uid);
    expect(await httpGet(podPort(restarted), '/value')).toEqual({ status: 200, body: 'two' });
  });

  it('leaves a Deployment unavailable while its readiness probe fails, and available once it passes', async () => {
    const readyFile = path.join(markers, 'gate-open');
    await apply(deployment('gated', 'x', { extraEnv: [{ name: 'READY_FILE', value: readyFile }] }));
    // Wait until the probes have run against started processes and failed.
    await waitUntil(
      async () => {
        const list = await pods('gated');
        const events = await tools.core.listNamespacedEvent({ namespace, fieldSelector: 'reason=Unhealthy' });
        return (
          list.length === 2 &&
          list.every((p) => p.status?.containerStatuses?.[0]?.started === true) &&
          list.every((p) => events.items.some((e) => e.involvedObject.name === p.metadata?.name))
        );
      },
      { what: 'both gated pods to run and fail their readiness probe', timeoutMs: 60_000, intervalMs: 200 },
    );
    const gated = await tools.apps.readNamespacedDeployment({ name: 'gated', namespace });
    expect(gated.status?.availableReplicas ?? 0).toBe(0);
    expect(gated.status?.conditions?.find((c) => c.type === 'Available')?.status).toBe('False');
    for (const pod of await pods('gated')) {
      expect(isPodReady(pod)).toBe(false);
      expect(pod.status?.containerStatuses?.[0]?.ready).toBe(false);
    }
    fs.writeFileSync(readyFile, '');
    await waitRolledOut('gated');
  });

  it('shows a container that keeps exiting as CrashLoopBackOff, with its exit code and restarts', async () => {
    await apply(deployment('crasher', 'x', { replicas: 1, command: ['node', '-e', 'process.exit(1)'] }));
    const crashing = await waitUntil(
      async () => {
        const [pod] = await pods('crasher');
        const status = pod?.status?.containerStatuses?.[0];
        return status?.state?.waiting?.reason === 'CrashLoopBackOff' && status;
      },
      { what: 'the crasher pod to be in CrashLoopBackOff', timeoutMs: 30_000, intervalMs: 200 },
    );
    expect(crashing.restartCount).toBeGreaterThanOrEqual(1);
    expect(crashing.lastState?.terminated?.exitCode).toBe(1);
    expect(crashing.state?.waiting?.message).toMatch(
      /^back-off 10s restarting failed container=server pod=crasher-/,
    );
    const crasher = await tools.apps.readNamespacedDeployment({ name: 'crasher', namespace });
    expect(crasher.status?.availableReplicas ?? 0).toBe(0);
    await tools.kubectl(['delete', 'deployment', 'crasher', '-n', namespace]);
  });

  it('stops every process when scaled to 0: pids gone, ports closed', async () => {
    const before = await pods('web');
    const processes = before.map((pod) => ({ pid: containerPid(pod), port: podPort(pod) }));
    expect(processes).toHaveLength(2);
    await tools.kubectl(['scale', 'deployment/web', '--replicas=0', '-n', namespace]);
    await waitUntil(async () => (await pods('web')).length === 0, {
      what: 'the web pods to be deleted',
      timeoutMs: 60_000,
      intervalMs: 100,
    });
    for (const { pid, port } of processes) {
      expect(isProcessRunning(pid)).toBe(false);
      expect(await isListening(port)).toBe(false);
    }
  });
});
