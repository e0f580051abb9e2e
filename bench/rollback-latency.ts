/**
 * Rollback benchmark (issue 6), against the running test environment (`npm run env:up`), in a
 * namespace of its own that it deletes afterwards. Run: `npm run bench:rollback`
 * (BENCH_ROLLBACKS and BENCH_ROLLOUT_ROLLBACKS set the number of samples).
 *
 * Every migration waits in canary with one PromQL metric. Its answers come from a stand-in for
 * Prometheus's instant-query API in this process, which is what lets the bench know the moment a
 * verdict turns: the operator's Prometheus provider is the real one, and the first failing answer
 * it receives is the failing verdict (judged in the same pass, without further I/O). One migration
 * is in progress at a time (those rolled back before it stay, idle): with many in canary at once,
 * each with a round every second, a rollback measures the queue of their rounds as much as itself.
 *
 * (a) From the failing verdict to the producer Deployment patched back to `sqs` (fallback removed),
 *     as a watch on the Deployments sees it; p50/p99 over BENCH_ROLLBACKS migrations whose
 *     Deployments have no pods. Target: p99 under 1 s. Baseline, same run, same watch, same
 *     client: a plain merge patch of a Deployment, from request to watch event.
 * (b) The whole rollback, from the failing verdict to phase RolledBack as a watch on the
 *     QueueMigrations sees it: without pods (the operator's own steps), and over
 *     BENCH_ROLLOUT_ROLLBACKS migrations with one pod per Deployment, whose rollouts it waits for.
 *
 * The operator runs as the image runs it: this checkout compiled to JavaScript, into
 * node_modules/.cache (so that its imports resolve), removed afterwards.
 */
import http from 'node:http';
import { Watch, type V1Deployment } from '@kubernetes/client-node';
import { Redis } from 'ioredis';
import { percentile } from '../src/operator/analysis/probe-readings.ts';
import { API_GROUP_VERSION } from '../src/operator/api/names.ts';
import type { QueueMigrationStatus } from '../src/operator/api/status-schema.ts';
import { CONTENT_TYPES } from '../src/operator/kube/kube-api.ts';
import { paths } from '../src/operator/kube/resource-paths.ts';
import { adminKubeConfig } from '../test/env/kube/accounts.ts';
import { testServerDeployment } from '../test/env/local-node/e2e-support.ts';
import { freePort, LOOPBACK } from '../test/env/ports.ts';
import { required } from '../test/env/test-environment.ts';
import { OperatorBench } from './support/operator-bench.ts';
import { WatchWaiters } from './support/watch-waiters.ts';

const ROLLBACKS = Number(process.env['BENCH_ROLLBACKS'] ?? '20');
const ROLLOUT_ROLLBACKS = Number(process.env['BENCH_ROLLOUT_ROLLBACKS'] ?? '3');
const LATENCY_TARGET_MS = 1_000;
const SEEN_TIMEOUT_MS = 120_000;

const streams = required('redis').streams;
const bench = new OperatorBench({ kind: 'rb' });
const { kube, sqs, tools, admin, namespace } = bench;

interface Sample {
  name: string;
  pods: number;
}

/** Watch events of the namespace's Deployments and QueueMigrations alike. */
const events = new WatchWaiters<Record<string, unknown>>('Deployment or QueueMigration', SEEN_TIMEOUT_MS);
const seen = events.seen.bind(events);

const nameOf = (object: Record<string, unknown>): string | undefined =>
  (object['metadata'] as { name?: string } | undefined)?.name;
const envOf = (object: Record<string, unknown>, variable: string): string | undefined =>
  (object as V1Deployment).spec?.template.spec?.containers[0]?.env?.find((e) => e.name === variable)?.value;
const phaseOf = (object: Record<string, unknown>): string | undefined =>
  (object['status'] as QueueMigrationStatus | undefined)?.phase;

/**
 * Prometheus's instant-query API for `bench_error_rate{migration="<name>"}`: 0 until the bench
 * flips a migration to failing, then 1; the first failing answer's time is that migration's verdict.
 */
class ErrorRateSource {
  private readonly failing = new Map<string, (at: number) => void>();
  private readonly server = http.createServer((req, res) => {
    const query = new URL(req.url ?? '/', 'http://bench').searchParams.get('query') ?? '';
    const name = /migration="([^"]+)"/.exec(query)?.[1] ?? '';
    const verdict = this.failing.get(name);
    if (verdict !== undefined) {
      verdict(performance.now());
      // Resolve once: later rounds (none should come) answer failing too.
      this.failing.set(name, () => undefined);
    }
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(
      JSON.stringify({
        status: 'success',
        data: {
          resultType: 'vector',
          result: [{ metric: {}, value: [Date.now() / 1_000, verdict ? '1' : '0'] }],
        },
      }),
    );
  });
  url = '';

  async start(): Promise<void> {
    const port = await freePort();
    await new Promise<void>((resolve) => this.server.listen(port, LOOPBACK, resolve));
    this.url = `http://${LOOPBACK}:${String(port)}`;
  }

  /** Resolves with the time the operator first read the failing value. */
  fail(name: string): Promise<number> {
    return new Promise((resolve) => this.failing.set(name, resolve));
  }

  close(): void {
    this.server.close();
  }
}

const errorRate = new ErrorRateSource();

async function createMigration({ name, pods }: Sample, queueUrl: string): Promise<void> {
  const env = [
    { name: 'QUEUE_TYPE', value: 'sqs' },
    { name: 'SQS_QUEUE_URL', value: queueUrl },
  ];
  for (const deployment of [`webhook-${name}`, `worker-${name}`]) {
    await tools.apps.createNamespacedDeployment({
      namespace,
      body: testServerDeployment({ name: deployment, namespace, value: deployment, replicas: pods, env }),
    });
  }
  await admin.request('POST', paths.migrations(namespace), {
    body: {
      apiVersion: API_GROUP_VERSION,
      kind: 'QueueMigration',
      metadata: { name, namespace },
      spec: {
        producers: [{ name: `webhook-${name}`, container: 'server' }],
        consumers: [{ name: `worker-${name}`, container: 'server' }],
        redis: {
          endpoint: { mode: 'standalone', address: `${streams.host}:${String(streams.port)}` },
          stream: `${namespace}-${name}`,
          group: 'workers',
        },
        sqs: { queueUrl, region: sqs.region, endpoint: sqs.endpoint },
        stages: {
          dual: { duration: '1s' },
          staging: { duration: '1s' },
          canary: { steps: [{ weight: 50, duration: '1h' }] },
        },
        analysis: {
          interval: '1s',
          // The pods are HTTP test servers that read no stream: the PromQL metric is the gate.
          defaultMetrics: false,
          prometheus: { url: errorRate.url },
          metrics: [
            {
              name: 'error-rate',
              query: `bench_error_rate{migration="${name}"}`,
              threshold: { operator: '<', value: 0.5 },
              stages: ['canary'],
            },
          ],
        },
      },
    },
  });
}

interface Measured {
  baselineMs: number;
  producersMs: number;
  rolledBackMs: number;
}

async function rollBack({ name }: Sample): Promise<Measured> {
  const webhook = `webhook-${name}`;
  const worker = `worker-${name}`;
  // Baseline: a plain patch of the consumer, to the watch event that carries it.
  const touched = seen((d) => nameOf(d) === worker && JSON.stringify(d).includes(`"bench-touch":"${name}"`));
  const start = performance.now();
  await admin.request('PATCH', paths.deployment(namespace, worker), {
    contentType: CONTENT_TYPES.mergePatch,
    body: { metadata: { annotations: { 'bench-touch': name } } },
  });
  const baselineMs = (await touched) - start;
  // The producer is back on its original settings: SQS with no Redis fallback.
  const producers = seen(
    (d) =>
      nameOf(d) === webhook &&
      envOf(d, 'QUEUE_TYPE') === 'sqs' &&
      envOf(d, 'QUEUE_FALLBACK_TYPE') === undefined,
  );
  const rolledBack = seen((m) => nameOf(m) === name && phaseOf(m) === 'RolledBack');
  const verdictAt = await errorRate.fail(name);
  return {
    baselineMs,
    producersMs: (await producers) - verdictAt,
    rolledBackMs: (await rolledBack) - verdictAt,
  };
}

function row(what: string, samples: readonly number[]): string {
  const sorted = [...samples].sort((a, b) => a - b);
  const figure = (share: number): string => (percentile(sorted, share) ?? Number.NaN).toFixed(0).padStart(7);
  return `${what.padEnd(62)}${String(samples.length).padStart(4)}${figure(0.5)}${figure(0.99)}${figure(1)}`;
}

function report(noPods: readonly Measured[], withPods: readonly Measured[]): void {
  const producers = noPods.map((m) => m.producersMs);
  const p99 = percentile(
    [...producers].sort((a, b) => a - b),
    0.99,
  );
  const lines = [
    'rollback benchmark (indicative: the machine is shared with other work); milliseconds',
    `${'measured'.padEnd(62)}${'n'.padStart(4)}${'p50'.padStart(7)}${'p99'.padStart(7)}${'max'.padStart(7)}`,
    row('failing verdict -> producers back on sqs (watch), no pods', producers),
    row(
      '  baseline: plain API patch -> watch event',
      [...noPods, ...withPods].map((m) => m.baselineMs),
    ),
    row(
      'failing verdict -> RolledBack (watch), no pods',
      noPods.map((m) => m.rolledBackMs),
    ),
    row(
      'failing verdict -> producers back on sqs (watch), 1 pod each',
      withPods.map((m) => m.producersMs),
    ),
    row(
      'failing verdict -> RolledBack, rollouts of 1 pod each included',
      withPods.map((m) => m.rolledBackMs),
    ),
    `verdict -> producers p99 ${p99 !== undefined && p99 < LATENCY_TARGET_MS ? 'meets' : 'MISSES'} the target of ${String(LATENCY_TARGET_MS)} ms`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

async function measure(): Promise<void> {
  await bench.startLeader();
  const samples: Sample[] = [
    ...Array.from({ length: ROLLBACKS }, (_, i) => ({ name: `idle-${String(i)}`, pods: 0 })),
    ...Array.from({ length: ROLLOUT_ROLLBACKS }, (_, i) => ({ name: `pods-${String(i)}`, pods: 1 })),
  ];
  try {
    const measured: Measured[] = [];
    for (const sample of samples) {
      await createMigration(sample, bench.queueUrl);
      const inCanary = seen(
        (m) =>
          nameOf(m) === sample.name &&
          (m['status'] as QueueMigrationStatus | undefined)?.stage === 'canary' &&
          phaseOf(m) === 'Progressing',
      );
      await inCanary;
      measured.push(await rollBack(sample));
    }
    report(measured.slice(0, ROLLBACKS), measured.slice(ROLLBACKS));
  } finally {
    const redis = new Redis({ host: streams.host, port: streams.port });
    await redis.del(...samples.map((s) => `${namespace}-${s.name}`)).finally(() => redis.quit());
  }
}

await bench.run(async () => {
  await errorRate.start();
  const watcher = new Watch(adminKubeConfig(kube));
  const watches = await Promise.all(
    [`/apis/apps/v1/namespaces/${namespace}/deployments`, paths.migrations(namespace)].map((target) =>
      watcher.watch(
        target,
        {},
        (_type: string, object: Record<string, unknown>) => {
          events.report(object);
        },
        () => undefined,
      ),
    ),
  );
  try {
    await measure();
  } finally {
    for (const watch of watches) watch.abort();
    errorRate.close();
  }
});
