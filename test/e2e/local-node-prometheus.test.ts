import fs from 'node:fs';
import type { V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { testServerDeployment, useTestNamespace, waitForRollout } from '../env/local-node/e2e-support.ts';
import { targetFile } from '../env/local-node/scrape-targets.ts';
import { queryPrometheus } from '../env/prometheus.ts';
import { required } from '../env/test-environment.ts';
import { waitUntil } from '../env/wait.ts';

// Analysis gates read pod metrics from Prometheus by namespace, pod and deployment: the local
// node is what tells Prometheus where its pods listen.
describe('Prometheus scraping pods of the local node', () => {
  const prometheus = required('prometheus');
  const { name: namespace, tools } = useTestNamespace('ln-prom');

  it('scrapes a Ready pod’s /metrics at its loopback port with namespace, pod and deployment labels', async () => {
    await tools.kubectl(
      ['apply', '-f', '-'],
      JSON.stringify(testServerDeployment({ name: 'metrics-demo', namespace, value: 'scraped' })),
    );
    await waitForRollout(tools, namespace, 'metrics-demo');
    const [pod] = (await tools.core.listNamespacedPod({ namespace, labelSelector: 'app=metrics-demo' }))
      .items as [V1Pod];
    const podName = pod.metadata?.name ?? '';

    const [sample] = await waitUntil(
      async () => {
        const samples = await queryPrometheus(
          prometheus.url,
          `localnode_test_info{namespace="${namespace}"}`,
        );
        return samples.length > 0 && samples;
      },
      { what: `Prometheus to scrape ${namespace}/${podName}`, timeoutMs: 60_000, intervalMs: 500 },
    );
    expect(sample?.value).toBe(1);
    expect(sample?.labels).toMatchObject({
      namespace,
      pod: podName,
      deployment: 'metrics-demo',
      container: 'server',
      value: 'scraped',
      instance: `127.0.0.1:${pod.metadata?.annotations?.['local-node.queueshift.dev/port'] ?? ''}`,
    });

    // Gone from the targets once the pod is gone, so Prometheus stops scraping a dead port.
    const file = targetFile(prometheus.fileSdDir, namespace, podName);
    expect(fs.existsSync(file)).toBe(true);
    await tools.kubectl(['scale', 'deployment/metrics-demo', '--replicas=0', '-n', namespace]);
    await waitUntil(() => !fs.existsSync(file), { what: `${file} to be removed`, timeoutMs: 60_000 });
    await waitUntil(
      async () => {
        const response = await fetch(`${prometheus.url}/api/v1/targets?state=active`);
        const body = (await response.json()) as {
          data: { activeTargets: { labels: Record<string, string> }[] };
        };
        return !body.data.activeTargets.some((t) => t.labels['namespace'] === namespace);
      },
      { what: 'Prometheus to drop the target', timeoutMs: 30_000, intervalMs: 500 },
    );
  });
});
