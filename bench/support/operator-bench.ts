import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { CreateQueueCommand, DeleteQueueCommand } from '@aws-sdk/client-sqs';
import { CoordinationV1Api } from '@kubernetes/client-node';
import { KubeApi } from '../../src/operator/kube/kube-api.ts';
import { kubeConfigCredentials } from '../../src/operator/kube/kube-credentials-of-kube-config.ts';
import {
  OPERATOR_NAMESPACE,
  namespaceOperator,
  operatorKubeconfig,
  releaseMigrations,
  type OperatorProcess,
} from '../../test/support/operator-process.ts';
import { adminKubeConfig } from '../../test/env/kube/accounts.ts';
import { kubeTools } from '../../test/env/local-node/e2e-support.ts';
import { sqsClient } from '../../test/env/sqs.ts';
import { required } from '../../test/env/test-environment.ts';
import { waitUntil } from '../../test/env/wait.ts';

const ROOT = path.join(import.meta.dirname, '..', '..');

export interface OperatorBenchOptions {
  /** Names the namespace (`bench-<kind>-<time>`), and with it the queue, the replica and its lease. */
  kind: string;
  /** OPERATOR_WORKERS of the operator under test; its default when absent. */
  workers?: number;
}

/**
 * What the operator benchmarks stand on, against the running test environment (`npm run env:up`):
 * a namespace of their own with an SQS queue, and one operator replica with config/rbac's rights
 * that runs this checkout as the image runs it, compiled to JavaScript into node_modules/.cache (so
 * that its imports resolve). All of it is removed afterwards, the replica's lease included.
 */
export class OperatorBench {
  readonly kube = required('kube');
  readonly sqs = required('sqs');
  readonly tools = kubeTools(this.kube);
  /** Cluster admin: what the bench itself does is not under test. */
  readonly admin = new KubeApi(kubeConfigCredentials(adminKubeConfig(this.kube)));
  readonly namespace: string;
  readonly operator: OperatorProcess;
  /** The namespace's queue, once run() created it. */
  queueUrl = '';
  private readonly build: string;

  constructor(options: OperatorBenchOptions) {
    const suffix = Date.now().toString(36);
    this.namespace = `bench-${options.kind}-${suffix}`;
    this.build = path.join(ROOT, 'node_modules', '.cache', 'queueshift-bench', suffix);
    this.operator = namespaceOperator(this.namespace, fs.mkdtempSync(path.join(os.tmpdir(), 'qs-bench-')), {
      logLevel: 'info',
      main: path.join(this.build, 'src', 'cli', 'main.js'),
      ...(options.workers !== undefined && { workers: options.workers }),
    });
  }

  /** Builds the operator, creates the namespace and its queue, runs `measure`, and removes it all. */
  async run(measure: () => Promise<void>): Promise<void> {
    try {
      await promisify(execFile)(
        process.execPath,
        [
          path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'),
          '-p',
          'tsconfig.build.json',
          '--outDir',
          this.build,
        ],
        { cwd: ROOT },
      );
      await operatorKubeconfig(this.kube, this.tools, this.operator.options.kubeconfig);
      await this.tools.core.createNamespace({ body: { metadata: { name: this.namespace } } });
      try {
        const created = await sqsClient(this.sqs).send(new CreateQueueCommand({ QueueName: this.namespace }));
        this.queueUrl = created.QueueUrl ?? '';
        await measure();
      } finally {
        await this.removeNamespace();
      }
    } finally {
      fs.rmSync(this.build, { recursive: true, force: true });
      process.stderr.write(`operator log: ${this.operator.options.logFile}\n`);
    }
  }

  /** Starts the operator and waits until it holds its lease. */
  async startLeader(): Promise<void> {
    await this.operator.start();
    await waitUntil(async () => (await this.operator.metric('queueshift_operator_leader')) === 1, {
      what: 'the operator to lead',
    });
  }

  private async removeNamespace(): Promise<void> {
    await this.operator.stop();
    await releaseMigrations(this.tools, this.namespace);
    await this.tools.kubectl(['delete', 'namespace', this.namespace, '--wait=false']);
    if (this.queueUrl !== '')
      await sqsClient(this.sqs).send(new DeleteQueueCommand({ QueueUrl: this.queueUrl }));
    // A stopped replica releases its lease but leaves the object; nothing else would remove it.
    await adminKubeConfig(this.kube)
      .makeApiClient(CoordinationV1Api)
      .deleteNamespacedLease({ name: this.operator.options.leaseName, namespace: OPERATOR_NAMESPACE })
      .catch(() => undefined);
  }
}
