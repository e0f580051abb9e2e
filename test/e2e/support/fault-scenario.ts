import { execFile } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import type { QueueMigrationStatus } from '../../../src/operator/api/status-schema.ts';
import { containerPid, isPodReady, rolledOut, type KubeTools } from '../../env/local-node/e2e-support.ts';
import { withRedis } from '../../env/redis.ts';
import type { HostPort, KubeEndpoint } from '../../env/state.ts';
import { required } from '../../env/test-environment.ts';
import { waitUntil } from '../../env/wait.ts';
import { pipelineInTestNamespace, SHORT_STAGES, type LivePipeline } from './live-pipeline.ts';
import { QueueSettingsWatch, queueSettingsOf } from './queue-settings-watch.ts';
import type { SteadyLoad } from './steady-load.ts';

/**
 * Deliveries per second of the fault scenarios. Lower than the healthy run's: a fault scenario
 * runs a second environment beside the shared one on the same 2 cores.
 */
export const FAULT_LOAD_RATE = Number(process.env['QUEUESHIFT_FAULT_LOAD_RATE'] ?? 50);

/** SHORT_STAGES with a canary step that lasts until a fault, a control or a deletion ends it. */
export const HELD_CANARY = {
  ...SHORT_STAGES,
  canary: { steps: [{ weight: 50, duration: '10m' }] },
};

/**
 * Analysis for scenarios whose subject is not a gate: a failure or a provider error must repeat for
 * a few rounds before it rolls back. On a loaded machine a pod that just turned Ready can miss its
 * first read within the missing-consumers grace, and a restarted server is briefly unreadable.
 */
export const PATIENT_ANALYSIS = { interval: '1s', failureLimit: 3, consecutiveErrorLimit: 8 };

/**
 * Waits until the migration is in canary and the canary pods carry real traffic: the canary
 * Deployment rolled out and the stream holds deliveries they published.
 */
export async function waitForCanaryTraffic(pipeline: LivePipeline, streams: HostPort): Promise<void> {
  const status = await waitUntil(
    async () => {
      const seen = await pipeline.migrationStatus();
      return seen?.stage === 'canary' || seen?.rollback !== undefined ? seen : undefined;
    },
    { what: 'the migration to reach canary', timeoutMs: 180_000, intervalMs: 250 },
  );
  if (status.rollback !== undefined)
    throw new Error(`the migration rolled back before canary: ${status.rollback.reason}`);
  await waitUntil(
    async () =>
      rolledOut(
        await pipeline.tools.apps.readNamespacedDeployment({
          name: 'webhook-canary',
          namespace: pipeline.namespace,
        }),
      ),
    { what: 'the canary Deployment to roll out', timeoutMs: 60_000, intervalMs: 250 },
  );
  const published = async (): Promise<number> =>
    withRedis({ port: streams.port }, (client) => client.xlen(pipeline.stream));
  const before = await published();
  await waitUntil(async () => (await published()) > before, {
    what: `the canary pods to publish to ${pipeline.stream}`,
    timeoutMs: 30_000,
    intervalMs: 250,
  });
}

/** When the history first recorded `reason`, in ms since the epoch. */
export function recordedAt(status: QueueMigrationStatus, reason: string): number {
  const entry = status.history?.find((h) => h.reason === reason);
  if (entry === undefined) throw new Error(`the history has no ${reason}`);
  return Date.parse(entry.at);
}

export interface PluginRun {
  code: number;
  stdout: string;
  stderr: string;
}

const BIN = path.resolve(import.meta.dirname, '../../../bin');

/** `kubectl queueshift …` as a user runs it: kubectl finds bin/kubectl-queueshift on PATH. */
export function kubectlQueueshift(kube: KubeEndpoint, args: readonly string[]): Promise<PluginRun> {
  return new Promise((resolve) => {
    execFile(
      kube.kubectl,
      ['queueshift', ...args],
      {
        env: {
          ...process.env,
          KUBECONFIG: kube.kubeconfig,
          PATH: [BIN, path.dirname(process.execPath), process.env['PATH'] ?? ''].join(path.delimiter),
        },
      },
      (error, stdout, stderr) => {
        resolve({ code: error === null ? 0 : Number(error.code), stdout, stderr });
      },
    );
  });
}

/**
 * SIGKILLs the process of one pod of `app`; resolves with the pod's name once the local node
 * restarted the container and the pod is ready again.
 */
export async function killPodProcess(tools: KubeTools, namespace: string, app: string): Promise<string> {
  const [pod] = (await tools.core.listNamespacedPod({ namespace, labelSelector: `app=${app}` })).items;
  if (pod === undefined) throw new Error(`no pod of ${app} to kill`);
  const name = pod.metadata?.name ?? '';
  const restarts = pod.status?.containerStatuses?.[0]?.restartCount ?? 0;
  process.kill(containerPid(pod), 'SIGKILL');
  await waitUntil(
    async () => {
      const now = await tools.core.readNamespacedPod({ name, namespace });
      return (now.status?.containerStatuses?.[0]?.restartCount ?? 0) > restarts && isPodReady(now);
    },
    { what: `pod ${name} to be restarted and ready`, timeoutMs: 60_000, intervalMs: 250 },
  );
  return name;
}

/** One fault scenario's pipeline, and the notes its report carries. */
export interface FaultScenario {
  pipeline: LivePipeline;
  namespace: string;
  tools: KubeTools;
  /** Faults injected, in order, for the report. */
  notes: string[];
  /** Adds a note and prints it at once (a scenario runs for minutes). */
  note: (line: string) => void;
}

/**
 * A test file's own namespace and pipeline, set up with the operator before its tests and torn
 * down after.
 */
export function useFaultScenario(label: string): FaultScenario {
  const pipeline = pipelineInTestNamespace(label);
  const { namespace, tools } = pipeline;
  const notes: string[] = [];
  beforeAll(async () => {
    await pipeline.setUp();
    await pipeline.startOperator();
  });
  afterAll(async () => {
    await pipeline.tearDown();
    process.stderr.write(`[${label}] operator log: ${pipeline.workDir}/operator.log\n`);
  });
  return {
    pipeline,
    namespace,
    tools,
    notes,
    note: (line) => {
      notes.push(line);
      process.stderr.write(`[${label}] ${line}\n`);
    },
  };
}

/** Starts the load and resolves once a second's worth of deliveries was accepted. */
export async function flowingLoad(pipeline: LivePipeline): Promise<SteadyLoad> {
  return pipeline.startFlowingLoad(FAULT_LOAD_RATE);
}

/** Resolves once the load has had another second's worth of deliveries accepted. */
export async function oneMoreSecond(load: SteadyLoad): Promise<void> {
  const from = load.acceptedCount;
  await waitUntil(() => load.acceptedCount >= from + FAULT_LOAD_RATE, { what: 'another second of load' });
}

/** Every change of the pipeline's queue settings, the canary's included, from now on. */
export function watchQueueSettings(pipeline: LivePipeline): Promise<QueueSettingsWatch> {
  return QueueSettingsWatch.start(
    required('kube'),
    pipeline.namespace,
    ['webhook', 'worker', 'webhook-canary'],
    2,
  );
}

/** `QUEUE_TYPE/QUEUE_FALLBACK_TYPE` of each Deployment of the pipeline now, by name. */
export async function pipelineSettings(pipeline: LivePipeline): Promise<Record<string, string>> {
  const { items } = await pipeline.tools.apps.listNamespacedDeployment({ namespace: pipeline.namespace });
  return Object.fromEntries(items.map((d) => [d.metadata?.name ?? '', queueSettingsOf(d)]));
}
