import { execFile } from 'node:child_process';
import http from 'node:http';
import { promisify } from 'node:util';
import {
  AppsV1Api,
  CoreV1Api,
  KubeConfig,
  type V1Container,
  type V1Deployment,
  type V1EnvVar,
  type V1Pod,
} from '@kubernetes/client-node';
import { afterAll, beforeAll } from 'vitest';
import { LOOPBACK } from '../ports.ts';
export { isRunning as isProcessRunning } from '../processes.ts';
import type { KubeEndpoint } from '../state.ts';
import { required } from '../test-environment.ts';
import { waitUntil } from '../wait.ts';
import { PORT_ANNOTATION } from './pod-worker.ts';

const run = promisify(execFile);

/** Helpers the local node's end-to-end tests share. */
export interface KubeTools {
  core: CoreV1Api;
  apps: AppsV1Api;
  /** Runs the environment's kubectl against its API server; resolves to stdout. */
  kubectl(args: readonly string[], input?: string): Promise<string>;
}

export function kubeTools(kube: KubeEndpoint): KubeTools {
  const kc = new KubeConfig();
  kc.loadFromFile(kube.kubeconfig);
  return {
    core: kc.makeApiClient(CoreV1Api),
    apps: kc.makeApiClient(AppsV1Api),
    async kubectl(args, input) {
      const child = run(kube.kubectl, [...args], { env: { ...process.env, KUBECONFIG: kube.kubeconfig } });
      if (input !== undefined) {
        child.child.stdin?.end(input);
      }
      const { stdout } = await child;
      return stdout;
    },
  };
}

export interface TestNamespace {
  readonly name: string;
  readonly tools: KubeTools;
}

/**
 * A namespace of the test file's own, named `<prefix>-<time>`: created before its tests, deleted
 * after them without waiting (the API server finishes that while other files run).
 */
export function useTestNamespace(prefix: string): TestNamespace {
  const tools = kubeTools(required('kube'));
  const name = `${prefix}-${Date.now().toString(36)}`;
  beforeAll(async () => {
    await tools.core.createNamespace({ body: { metadata: { name } } });
  });
  afterAll(async () => {
    await tools.kubectl(['delete', 'namespace', name, '--wait=false']);
  });
  return { name, tools };
}

/** The loopback port the local node gave the pod's first container. */
export function podPort(pod: V1Pod): number {
  const value = pod.metadata?.annotations?.[PORT_ANNOTATION];
  if (value === undefined)
    throw new Error(`pod ${pod.metadata?.name ?? ''} has no ${PORT_ANNOTATION} annotation`);
  return Number(value);
}

/** The pid of a running container, from its `local://<pid>` container id. */
export function containerPid(pod: V1Pod, container?: string): number {
  const status = (pod.status?.containerStatuses ?? []).find(
    (s) => container === undefined || s.name === container,
  );
  const match = /^local:\/\/(\d+)$/.exec(status?.containerID ?? '');
  if (!match?.[1]) throw new Error(`pod ${pod.metadata?.name ?? ''} has no running container`);
  return Number(match[1]);
}

export function isPodReady(pod: V1Pod): boolean {
  return pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;
}

/** A Deployment whose rollout finished: every replica updated and available, no old pod left. */
export function rolledOut(deployment: V1Deployment): boolean {
  const wanted = deployment.spec?.replicas ?? 1;
  const status = deployment.status;
  return (
    (status?.observedGeneration ?? 0) >= (deployment.metadata?.generation ?? 1) &&
    (status?.updatedReplicas ?? 0) === wanted &&
    (status?.availableReplicas ?? 0) === wanted &&
    (status?.replicas ?? 0) === wanted &&
    status?.conditions?.some((c) => c.type === 'Available' && c.status === 'True') === true
  );
}

/** Waits until the Deployment's rollout finished (see `rolledOut`). */
export function waitForRollout(
  tools: KubeTools,
  namespace: string,
  name: string,
  timeoutMs = 60_000,
): Promise<true> {
  return waitUntil(async () => rolledOut(await tools.apps.readNamespacedDeployment({ name, namespace })), {
    what: `deployment ${namespace}/${name} to finish its rollout`,
    timeoutMs,
    intervalMs: 200,
  });
}

export interface TestServerOptions {
  name: string;
  namespace: string;
  /** Served at /value. */
  value: string;
  replicas?: number;
  env?: V1EnvVar[];
  /** Default: TEST_SERVER under node. */
  command?: string[];
  /** Default: GET /ready every second. */
  readinessProbe?: V1Container['readinessProbe'];
  livenessProbe?: V1Container['livenessProbe'];
  terminationGracePeriodSeconds?: number;
}

/** A Deployment of TEST_SERVER (label app=<name>), rolled one pod at a time with no unavailability. */
export function testServerDeployment(options: TestServerOptions): V1Deployment {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: options.name, namespace: options.namespace },
    spec: {
      replicas: options.replicas ?? 1,
      selector: { matchLabels: { app: options.name } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
      template: {
        metadata: { labels: { app: options.name } },
        spec: {
          ...(options.terminationGracePeriodSeconds !== undefined && {
            terminationGracePeriodSeconds: options.terminationGracePeriodSeconds,
          }),
          containers: [
            {
              name: 'server',
              image: 'node:22',
              command: options.command ?? ['node', '-e', TEST_SERVER],
              env: [{ name: 'VALUE', value: options.value }, ...(options.env ?? [])],
              readinessProbe: options.readinessProbe ?? {
                httpGet: { path: '/ready', port: 8080 },
                periodSeconds: 1,
              },
              ...(options.livenessProbe !== undefined && { livenessProbe: options.livenessProbe }),
            },
          ],
        },
      },
    },
  };
}

/** GET http://127.0.0.1:<port><path>; resolves to status and body. */
export function httpGet(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = http.get({ host: LOOPBACK, port, path, timeout: 3_000 }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => {
        resolve({ status: response.statusCode ?? 0, body });
      });
    });
    request.on('timeout', () => request.destroy(new Error(`GET ${path} on port ${port} timed out`)));
    request.on('error', reject);
  });
}

/**
 * A tiny HTTP server for test pods (run with `node -e`): `/value` answers env VALUE, `/ready`
 * answers 200 unless env READY_FILE names a file that does not exist, `/exit` exits with code 3,
 * `/metrics` serves `localnode_test_info{value=…} 1`. On SIGTERM it writes
 * `<MARKER_DIR>/<POD_NAME>` before exiting.
 */
export const TEST_SERVER = `
const http = require('node:http');
const fs = require('node:fs');
const env = process.env;
const server = http.createServer((req, res) => {
  if (req.url === '/value') return res.end(env.VALUE ?? '');
  if (req.url === '/ready') {
    const ready = !env.READY_FILE || fs.existsSync(env.READY_FILE);
    res.writeHead(ready ? 200 : 503);
    return res.end(ready ? 'ready' : 'not ready');
  }
  if (req.url === '/exit') {
    res.end('exiting');
    setTimeout(() => process.exit(3), 20);
    return;
  }
  if (req.url === '/metrics') {
    res.setHeader('Content-Type', 'text/plain; version=0.0.4');
    return res.end('# TYPE localnode_test_info gauge\\nlocalnode_test_info{value="' + (env.VALUE ?? '') + '"} 1\\n');
  }
  res.writeHead(404);
  res.end();
});
server.listen(Number(env.PORT), '127.0.0.1');
process.on('SIGTERM', () => {
  if (env.MARKER_DIR) fs.writeFileSync(env.MARKER_DIR + '/' + env.POD_NAME, 'SIGTERM at ' + Date.now());
  server.close();
  process.exit(0);
});
`;
