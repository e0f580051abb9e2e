/**
 * Operator benchmark (issue 5), against the running test environment (`npm run env:up`), in a
 * namespace of its own that it deletes afterwards. Run: `node bench/operator-scale.ts`
 * (BENCH_MIGRATIONS and BENCH_OPERATOR_WORKERS vary the load and the operator).
 *
 * (a) Reaction time: from `spec.paused: false` on a waiting QueueMigration to the operator's first
 *     patch of one of its Deployments, as a watch on the Deployments sees it; p50/p95/p99 over
 *     BENCH_MIGRATIONS samples. Baseline, same run, same watch, same client: a plain merge patch of
 *     the same Deployment, from request to watch event. Target: p99 under 1 s.
 * (b) Memory: the operator's RSS with BENCH_MIGRATIONS QueueMigrations in progress (in `dual`) over
 *     Deployments with 0 replicas. Baseline: the same process before any migration existed. Target:
 *     under 150 MB.
 *
 * The operator runs as the image runs it: this checkout compiled to JavaScript, built first into
 * node_modules/.cache (so that its imports resolve) and removed afterwards. Run from the TypeScript
 * sources instead, Node's type stripping alone adds some 35 MB of RSS.
 */
import fs from 'node:fs';
import { Watch, type V1Deployment } from '@kubernetes/client-node';
import { API_GROUP_VERSION } from '../src/operator/api/names.ts';
import type { QueueMigrationStatus } from '../src/operator/api/status-schema.ts';
import { CONTENT_TYPES } from '../src/operator/kube/kube-api.ts';
import { paths } from '../src/operator/kube/resource-paths.ts';
import { adminKubeConfig } from '../test/env/kube/accounts.ts';
import { testServerDeployment } from '../test/env/local-node/e2e-support.ts';
import { required } from '../test/env/test-environment.ts';
import { waitUntil } from '../test/env/wait.ts';
import { OperatorBench } from './support/operator-bench.ts';
import { WatchWaiters } from './support/watch-waiters.ts';

const MIGRATIONS = Number(process.env['BENCH_MIGRATIONS'] ?? '100');
/** OPERATOR_WORKERS of the operator under test; its default when unset. */
const WORKERS = process.env['BENCH_OPERATOR_WORKERS'];
const LATENCY_TARGET_MS = 1_000;
const RSS_TARGET_MB = 150;
/** RSS is sampled this long, this often, and the highest sample counts. */
const RSS_WINDOW_MS = 5_000;
const RSS_EVERY_MS = 100;
const SEEN_TIMEOUT_MS = 30_000;

const streams = required('redis').streams;
const bench = new OperatorBench({
  kind: 'op',
  ...(WORKERS !== undefined && { workers: Number(WORKERS) }),
});
const { kube, sqs, tools, admin, namespace, operator } = bench;

/** Watch events of the namespace's Deployments; each sample waits for its own condition. */
const events = new WatchWaiters<V1Deployment>('Deployment', SEEN_TIMEOUT_MS);
const seen = events.seen.bind(events);

const env = (deployment: V1Deployment, name: string): string | undefined =>
  deployment.spec?.template.spec?.containers[0]?.env?.find((e) => e.name === name)?.value;

const mergePatch = (target: string, body: object): Promise<unknown> =>
  admin.request('PATCH', target, { contentType: CONTENT_TYPES.mergePatch, body });

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

function summary(samples: readonly number[]): { p50: number; p95: number; p99: number; max: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  const round = (ms: number): number => Math.round(ms * 10) / 10;
  return {
    p50: round(percentile(sorted, 50)),
    p95: round(percentile(sorted, 95)),
    p99: round(percentile(sorted, 99)),
    max: round(sorted.at(-1) ?? Number.NaN),
  };
}

/** Highest resident set of the operator process over the window, in MB. */
async function peakRssMb(): Promise<number> {
  const pid = operator.pid;
  if (pid === undefined) throw new Error('the operator is not running');
  let peak = 0;
  for (const end = Date.now() + RSS_WINDOW_MS; Date.now() < end;) {
    const kb = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${String(pid)}/status`, 'utf8'))?.[1];
    peak = Math.max(peak, Number(kb ?? 0) / 1_024);
    await new Promise((resolve) => setTimeout(resolve, RSS_EVERY_MS));
  }
  return Math.round(peak * 10) / 10;
}

async function createPipelines(queueUrl: string): Promise<void> {
  const queue = [
    { name: 'QUEUE_TYPE', value: 'sqs' },
    { name: 'SQS_QUEUE_URL', value: queueUrl },
  ];
  for (let i = 0; i < MIGRATIONS; i += 1) {
    for (const name of [`webhook-${String(i)}`, `worker-${String(i)}`]) {
      await tools.apps.createNamespacedDeployment({
        namespace,
        body: testServerDeployment({ name, namespace, value: name, replicas: 0, env: queue }),
      });
    }
    await admin.request('POST', paths.migrations(namespace), {
      body: {
        apiVersion: API_GROUP_VERSION,
        kind: 'QueueMigration',
        metadata: { name: `m-${String(i)}`, namespace },
        spec: {
          paused: true,
          producers: [{ name: `webhook-${String(i)}`, container: 'server' }],
          consumers: [{ name: `worker-${String(i)}`, container: 'server' }],
          redis: {
            endpoint: { mode: 'standalone', address: `${streams.host}:${String(streams.port)}` },
            stream: `${namespace}-${String(i)}`,
          },
          sqs: { queueUrl, region: sqs.region, endpoint: sqs.endpoint },
          stages: { dual: { duration: '1h' } },
        },
      },
    });
  }
}

/** Every migration has a status from the operator (`kubectl get qm` shows each one). */
async function migrationsWith(check: (status: QueueMigrationStatus) => boolean, what: string): Promise<void> {
  await waitUntil(
    async () => {
      const list = await admin.request<{ items: { status?: QueueMigrationStatus }[] }>(
        'GET',
        paths.migrations(namespace),
      );
      return list.items.length === MIGRATIONS && list.items.every((m) => check(m.status ?? {}));
    },
    { what, timeoutMs: 300_000, intervalMs: 500 },
  );
}

async function measure(): Promise<void> {
  await bench.startLeader();
  const idleRss = await peakRssMb();

  await createPipelines(bench.queueUrl);
  await migrationsWith((s) => s.message === 'paused before the start', 'every migration to be seen paused');

  const baseline: number[] = [];
  const reaction: number[] = [];
  for (let i = 0; i < MIGRATIONS; i += 1) {
    const worker = `worker-${String(i)}`;
    const webhook = `webhook-${String(i)}`;
    // Baseline: a plain patch of the consumer, to the watch event that carries it.
    const touch = String(i);
    const touched = seen(
      (d) => d.metadata?.name === worker && d.metadata.annotations?.['bench.queueshift.dev/touch'] === touch,
    );
    let start = performance.now();
    await mergePatch(paths.deployment(namespace, worker), {
      metadata: { annotations: { 'bench.queueshift.dev/touch': touch } },
    });
    baseline.push((await touched) - start);
    // The operator: the spec change, to the first watch event of its patch of either Deployment.
    const patched = seen(
      (d) =>
        (d.metadata?.name === worker && env(d, 'QUEUE_TYPE') === 'dual') ||
        (d.metadata?.name === webhook && env(d, 'QUEUE_FALLBACK_TYPE') === 'redis'),
    );
    start = performance.now();
    await mergePatch(`${paths.migrations(namespace)}/m-${String(i)}`, { spec: { paused: false } });
    reaction.push((await patched) - start);
  }
  await migrationsWith(
    (s) => s.phase === 'Progressing' && s.stage === 'dual',
    'every migration to be in progress in dual',
  );
  const busyRss = await peakRssMb();
  const seconds = await operator.metric('queueshift_operator_reconcile_duration_seconds_sum');
  const reconciles = await operator.metric('queueshift_operator_reconcile_duration_seconds_count');
  report(baseline, reaction, idleRss, busyRss);
  process.stdout.write(
    `    the operator reconciled ${String(reconciles)} times, ${((1_000 * seconds) / reconciles).toFixed(1)} ms each on average\n`,
  );
}

function report(baseline: number[], reaction: number[], idleRss: number, busyRss: number): void {
  const operatorFigures = summary(reaction);
  const plain = summary(baseline);
  const lines = [
    `operator benchmark, ${String(MIGRATIONS)} migrations, OPERATOR_WORKERS=${WORKERS ?? 'default'} (indicative: the machine is shared with other work)`,
    `(a) spec change -> Deployment patch seen through a watch, ms: p50 ${String(operatorFigures.p50)}  p95 ${String(operatorFigures.p95)}  p99 ${String(operatorFigures.p99)}  max ${String(operatorFigures.max)}`,
    `    baseline: plain API patch -> watch event, ms:             p50 ${String(plain.p50)}  p95 ${String(plain.p95)}  p99 ${String(plain.p99)}  max ${String(plain.max)}`,
    `    p99 ${operatorFigures.p99 < LATENCY_TARGET_MS ? 'meets' : 'MISSES'} the target of ${String(LATENCY_TARGET_MS)} ms; p50 is ${(operatorFigures.p50 / plain.p50).toFixed(1)}x the baseline`,
    `(b) operator RSS: ${String(busyRss)} MB with ${String(MIGRATIONS)} migrations in progress, baseline ${String(idleRss)} MB with none (+${(busyRss - idleRss).toFixed(1)} MB)`,
    `    ${busyRss < RSS_TARGET_MB ? 'meets' : 'MISSES'} the target of ${String(RSS_TARGET_MB)} MB`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

await bench.run(async () => {
  const watch = await new Watch(adminKubeConfig(kube)).watch(
    `/apis/apps/v1/namespaces/${namespace}/deployments`,
    {},
    (_type: string, deployment: V1Deployment) => {
      events.report(deployment);
    },
    () => undefined,
  );
  try {
    await measure();
  } finally {
    watch.abort();
  }
});
