import type { V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import {
  isPodReady,
  rolledOut,
  testServerDeployment,
  useTestNamespace,
  waitForRollout,
} from '../env/local-node/e2e-support.ts';
import { required } from '../env/test-environment.ts';

/** Developers may shorten the run locally; CI runs the full ten minutes. */
const SOAK_SECONDS = Number(process.env['QUEUESHIFT_SOAK_SECONDS'] ?? 600);
const POLL_MS = 5_000;

// Without status and Lease heartbeats the node controller marks a node NotReady after ~40 s and
// evicts its pods a few minutes later: a migration test that runs for minutes would then be
// watching evictions instead of the operator.
describe('the local node over a long run', () => {
  const localNode = required('localNode');
  const { name: namespace, tools } = useTestNamespace('ln-soak');

  it(
    `keeps a Deployment Available for ${SOAK_SECONDS} s: same pods, no restarts, Node Ready throughout`,
    { timeout: (SOAK_SECONDS + 180) * 1000 },
    async () => {
      expect(Number.isFinite(SOAK_SECONDS) && SOAK_SECONDS > 0).toBe(true);
      const manifest = testServerDeployment({
        name: 'steady',
        namespace,
        value: 'steady',
        replicas: 2,
        readinessProbe: { httpGet: { path: '/ready', port: 8080 }, periodSeconds: 2 },
        livenessProbe: { httpGet: { path: '/value', port: 8080 }, periodSeconds: 5 },
      });
      await tools.kubectl(['apply', '-f', '-'], JSON.stringify(manifest));
      await waitForRollout(tools, namespace, 'steady');
      const pods = async (): Promise<V1Pod[]> =>
        (await tools.core.listNamespacedPod({ namespace, labelSelector: 'app=steady' })).items;
      const uids = (await pods()).map((p) => p.metadata?.uid).sort();
      expect(uids).toHaveLength(2);

      const problems: string[] = [];
      const note = (elapsed: number, problem: string): void => {
        problems.push(`${Math.round(elapsed / 1000)} s: ${problem}`);
      };
      const started = Date.now();
      // The node controller needs 40 s without a heartbeat to act; checks closer than that see it.
      let previousCheck = started;
      let widestGap = 0;
      while (Date.now() - started < SOAK_SECONDS * 1000) {
        await new Promise((resolve) => setTimeout(resolve, POLL_MS));
        const elapsed = Date.now() - started;
        const [deployment, current, node, lease] = await Promise.all([
          tools.apps.readNamespacedDeployment({ name: 'steady', namespace }),
          pods(),
          tools.core.readNode({ name: localNode.nodeName }),
          tools.kubectl([
            'get',
            'lease',
            localNode.nodeName,
            '-n',
            'kube-node-lease',
            '-o',
            'jsonpath={.spec.renewTime}',
          ]),
        ]);
        if (!rolledOut(deployment))
          note(elapsed, `Deployment not Available: ${JSON.stringify(deployment.status?.conditions)}`);
        const now = current.map((p) => p.metadata?.uid).sort();
        if (JSON.stringify(now) !== JSON.stringify(uids))
          note(elapsed, `pods changed: ${JSON.stringify(now)}`);
        for (const pod of current) {
          const restarts = pod.status?.containerStatuses?.[0]?.restartCount ?? 0;
          if (restarts !== 0) note(elapsed, `${pod.metadata?.name ?? ''} restarted ${restarts} time(s)`);
          if (!isPodReady(pod)) note(elapsed, `${pod.metadata?.name ?? ''} not Ready`);
          if (pod.metadata?.deletionTimestamp)
            note(elapsed, `${pod.metadata.name ?? ''} is being deleted (evicted?)`);
        }
        const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
        if (ready?.status !== 'True')
          note(elapsed, `Node Ready=${ready?.status ?? 'missing'} (${ready?.reason ?? ''})`);
        const taints = node.spec?.taints ?? [];
        if (taints.length > 0) note(elapsed, `Node tainted: ${taints.map((t) => t.key).join(', ')}`);
        const leaseAge = Date.now() - Date.parse(lease);
        if (!(leaseAge < 30_000)) note(elapsed, `Lease renewed ${Math.round(leaseAge / 1000)} s ago`);
        widestGap = Math.max(widestGap, Date.now() - previousCheck);
        previousCheck = Date.now();
        if (problems.length > 20) break;
      }
      expect(problems).toEqual([]);
      expect(widestGap).toBeLessThan(20_000);
      expect(previousCheck - started).toBeGreaterThanOrEqual(SOAK_SECONDS * 1000);
    },
  );
});
