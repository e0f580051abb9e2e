import type { V1Deployment, V1EnvVar } from '@kubernetes/client-node';
import { isPodReady, podPort, type KubeTools } from '../../env/local-node/e2e-support.ts';
import { LOOPBACK } from '../../env/ports.ts';

/** The image name the local node maps to this checkout's built CLI (`npm run build`). */
export const QUEUESHIFT_IMAGE = 'queueshift:dev';

export interface ServiceDeploymentOptions {
  name: string;
  namespace: string;
  command: 'webhook' | 'worker';
  replicas: number;
  env: V1EnvVar[];
}

/**
 * A Deployment of `queueshift webhook|worker` as users run it: the project's image, readiness on
 * /readyz, the pod name as consumer identity, rolled one pod at a time with none unavailable.
 */
export function serviceDeployment(options: ServiceDeploymentOptions): V1Deployment {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: options.name, namespace: options.namespace, labels: { app: options.name } },
    spec: {
      replicas: options.replicas,
      selector: { matchLabels: { app: options.name } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
      template: {
        metadata: { labels: { app: options.name } },
        spec: {
          terminationGracePeriodSeconds: 30,
          containers: [
            {
              name: options.command,
              image: QUEUESHIFT_IMAGE,
              args: [options.command],
              env: [
                { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
                { name: 'LISTEN_HOST', value: LOOPBACK },
                ...options.env,
              ],
              readinessProbe: { httpGet: { path: '/readyz', port: 8080 }, periodSeconds: 1 },
            },
          ],
        },
      },
    },
  };
}

/**
 * The webhook URLs a Service would route to right now: pods selected by `app`, Ready, and not on
 * their way out.
 */
export async function readyWebhookUrls(
  tools: KubeTools,
  namespace: string,
  app: string,
  path = '/webhook',
): Promise<string[]> {
  const pods = await tools.core.listNamespacedPod({ namespace, labelSelector: `app=${app}` });
  return pods.items
    .filter((pod) => pod.metadata?.deletionTimestamp === undefined && isPodReady(pod))
    .map((pod) => `http://${LOOPBACK}:${String(podPort(pod))}${path}`);
}
