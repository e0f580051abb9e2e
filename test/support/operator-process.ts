import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { API_GROUP_VERSION, CRD_NAME, KIND } from '../../src/operator/api/names.ts';
import { serviceAccountKubeconfig } from '../env/kube/accounts.ts';
import { httpGet, type KubeTools, type TestNamespace } from '../env/local-node/e2e-support.ts';
import { LOOPBACK, freePort } from '../env/ports.ts';
import { waitForDaemon } from '../env/readiness.ts';
import type { KubeEndpoint } from '../env/state.ts';
import { required } from '../env/test-environment.ts';

const ROOT = path.join(import.meta.dirname, '../..');

/** Where config/rbac puts the operator's ServiceAccount and where its Lease lives. */
export const OPERATOR_NAMESPACE = 'queueshift-system';
const OPERATOR_ACCOUNT = 'queueshift-operator';

/**
 * Installs the CRD and config/rbac, and writes a kubeconfig holding a token of the operator's
 * ServiceAccount: the operator runs with exactly the rights config/rbac grants, never as admin.
 */
export async function operatorKubeconfig(
  kube: KubeEndpoint,
  tools: KubeTools,
  file: string,
): Promise<string> {
  await tools.kubectl(['apply', '--server-side', '--force-conflicts', '-k', path.join(ROOT, 'config/crd')]);
  await tools.kubectl(['wait', '--for=condition=Established', `crd/${CRD_NAME}`, '--timeout=60s']);
  // Several test files install it at once: "already exists" is the expected race.
  await tools.kubectl(['create', 'namespace', OPERATOR_NAMESPACE]).catch(() => '');
  await tools.kubectl(['apply', '-k', path.join(ROOT, 'config/rbac')]);
  await serviceAccountKubeconfig(kube, { namespace: OPERATOR_NAMESPACE, name: OPERATOR_ACCOUNT }, file);
  return file;
}

/** Creates or updates the QueueMigration `name` with `spec`, as a user does: `kubectl apply`. */
export async function applyMigration(
  tools: KubeTools,
  namespace: string,
  name: string,
  spec: Record<string, unknown>,
): Promise<void> {
  const manifest = { apiVersion: API_GROUP_VERSION, kind: KIND, metadata: { name, namespace }, spec };
  await tools.kubectl(['apply', '-f', '-'], JSON.stringify(manifest));
}

/**
 * Drops the finalizers of every QueueMigration left in the namespace: once the operator is gone
 * nobody would release them, and the namespace's deletion would hang on them.
 */
export async function releaseMigrations(tools: KubeTools, namespace: string): Promise<void> {
  const names = (await tools.kubectl(['get', 'qm', '-n', namespace, '-o', 'name']))
    .split('\n')
    .filter(Boolean);
  for (const name of names) {
    await tools.kubectl([
      'patch',
      name,
      '-n',
      namespace,
      '--type=merge',
      '--patch={"metadata":{"finalizers":null}}',
    ]);
  }
}

/**
 * Gives the Lease to a holder that renewed a moment ago and never renews again, as a replica that won
 * while the leader could not renew (an API server outage does that): the leader steps down at its
 * next renewal, and takes the Lease back once it expires.
 */
export async function giveLeaseToAnother(tools: KubeTools, leaseName: string): Promise<void> {
  const renewTime = new Date().toISOString().replace(/Z$/, '000Z');
  await tools.kubectl([
    'patch',
    'lease',
    leaseName,
    '-n',
    OPERATOR_NAMESPACE,
    '--type=merge',
    `--patch=${JSON.stringify({ spec: { holderIdentity: 'another-replica', renewTime } })}`,
  ]);
}

/** One replica that watches `namespace` alone; its kubeconfig (not written here) and log go in `workDir`. */
export function namespaceOperator(
  namespace: string,
  workDir: string,
  tuning: Pick<OperatorProcessOptions, 'logLevel' | 'workers' | 'main'> = {},
): OperatorProcess {
  return new OperatorProcess({
    kubeconfig: path.join(workDir, 'kubeconfig'),
    podName: `operator-${namespace}`,
    watchNamespace: namespace,
    leaseName: `operator-${namespace}`,
    logFile: path.join(workDir, 'operator.log'),
    ...tuning,
  });
}

/**
 * The operator of a test file's namespace: one replica that watches it alone, with config/rbac's
 * rights (installed before all tests), its kubeconfig and log in a directory of its own. The file
 * starts it once what it should find exists. After all tests it is stopped and the namespace's
 * migrations released, before useTestNamespace deletes the namespace (hooks run in reverse).
 */
export function useOperatorFor({ name: namespace, tools }: TestNamespace): OperatorProcess {
  const operator = namespaceOperator(namespace, fs.mkdtempSync(path.join(os.tmpdir(), `qs-${namespace}-`)));
  beforeAll(async () => {
    await operatorKubeconfig(required('kube'), tools, operator.options.kubeconfig);
  });
  afterAll(async () => {
    await operator.stop();
    await releaseMigrations(tools, namespace);
    process.stderr.write(`[operator] log: ${operator.options.logFile}\n`);
  });
  return operator;
}

export interface OperatorProcessOptions {
  kubeconfig: string;
  /** The replica's identity: lease holder, Events' reportingInstance. */
  podName: string;
  watchNamespace: string;
  leaseName: string;
  /** Output of every run of this replica is appended here. */
  logFile: string;
  /** OPERATOR_LEASE_DURATION; the operator's default when absent. */
  leaseDuration?: string;
  logLevel?: string;
  /** OPERATOR_WORKERS; the operator's default when absent. */
  workers?: number;
  /**
   * How long start() waits for /readyz. Default 90 s: type stripping, the first list and the lease
   * took over 30 s once on a 2-core machine at load 20+.
   */
  readyWithinMs?: number;
  /** The CLI entry point: src/cli/main.ts (type-stripped) unless given, e.g. a build's main.js. */
  main?: string;
}

function exitStatus(child: ChildProcess): string {
  if (child.exitCode !== null) return `exited with code ${String(child.exitCode)}`;
  if (child.signalCode !== null) return `killed by ${child.signalCode}`;
  return 'still running';
}

/**
 * One operator replica as users run it: `node src/cli/main.ts operator` in a process of its own,
 * which a test can start, SIGKILL and start again (same identity, same port).
 */
export class OperatorProcess {
  readonly options: OperatorProcessOptions;
  /** /healthz, /readyz and /metrics; chosen at the first start and kept across restarts. */
  port = 0;
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();

  constructor(options: OperatorProcessOptions) {
    this.options = options;
  }

  get pid(): number | undefined {
    return this.running ? this.child?.pid : undefined;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /**
   * Starts the process and waits until it answers /readyz (a standby answers too); rejects at once
   * if it exits first. Either failure names the exit status and ends with the log's last lines.
   */
  async start(): Promise<void> {
    if (this.running) throw new Error(`operator ${this.options.podName} is already running`);
    const { options } = this;
    if (this.port === 0) this.port = await freePort();
    const log = fs.openSync(options.logFile, 'a');
    const main = options.main ?? path.join(ROOT, 'src', 'cli', 'main.ts');
    const child = spawn(process.execPath, [main, 'operator'], {
      cwd: ROOT,
      stdio: ['ignore', log, log],
      env: {
        PATH: process.env.PATH,
        KUBECONFIG: options.kubeconfig,
        POD_NAME: options.podName,
        OPERATOR_NAMESPACE,
        OPERATOR_WATCH_NAMESPACE: options.watchNamespace,
        OPERATOR_LEASE_NAME: options.leaseName,
        ...(options.leaseDuration !== undefined && { OPERATOR_LEASE_DURATION: options.leaseDuration }),
        ...(options.workers !== undefined && { OPERATOR_WORKERS: String(options.workers) }),
        PORT: String(this.port),
        LISTEN_HOST: LOOPBACK,
        // The SDK's default credential chain needs something to sign with; the emulator ignores it.
        AWS_ACCESS_KEY_ID: 'test',
        AWS_SECRET_ACCESS_KEY: 'test',
        LOG_LEVEL: options.logLevel ?? 'debug',
      },
    });
    fs.closeSync(log);
    this.child = child;
    this.exited = new Promise((resolve) => {
      child.once('exit', () => {
        resolve();
      });
    });
    if (child.pid === undefined) throw new Error(`operator ${options.podName} could not be spawned`);
    const budgetMs = options.readyWithinMs ?? 90_000;
    try {
      await waitForDaemon(
        { name: `operator ${options.podName}`, pid: child.pid, logFile: options.logFile },
        async () => (await httpGet(this.port, '/readyz')).status === 200,
        { what: `operator ${options.podName} to answer /readyz`, timeoutMs: budgetMs },
      );
    } catch (error) {
      throw new Error(
        `OPERATOR_NOT_READY: operator ${options.podName} did not become ready ` +
          `(${exitStatus(child)}; budget ${String(budgetMs)} ms): ${(error as Error).message}`,
        { cause: error },
      );
    }
  }

  /** Sends `signal` and waits for the process to exit. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (this.running) this.child?.kill(signal);
    await this.exited;
  }

  /** Stopped as a pod would be: SIGTERM, then its graceful shutdown (the lease is released). Idle when not running. */
  async stop(): Promise<void> {
    await this.kill('SIGTERM');
  }

  /** The value of one sample of /metrics, such as `queueshift_operator_leader`. */
  async metric(sample: string): Promise<number> {
    const body = (await httpGet(this.port, '/metrics')).body;
    const line = body.split('\n').find((l) => l.startsWith(`${sample} `));
    if (line === undefined) throw new Error(`no ${sample} in the metrics of ${this.options.podName}`);
    return Number(line.slice(sample.length + 1));
  }

  /** Reconciles this process finished successfully since it started. */
  reconciles(): Promise<number> {
    return this.metric('queueshift_operator_reconciles_total{result="success"}');
  }
}
