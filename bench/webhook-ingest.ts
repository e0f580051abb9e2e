/**
 * HTTP ingest benchmark (issue 4): `queueshift webhook` (signature verification, checks, envelope,
 * publish, 202 once the queue accepted) against a bare node:http server that reads the whole body
 * and answers 202, for a fixed real `push` payload, driven by autocannon at fixed concurrency, on
 * the same machine in the same run. Redis path and SQS path. Two floors run beside them (see
 * webhook-ingest-floor-server.ts): the bare server plus only the checks the issue requires
 * (signature, JSON), and plus one XADD: they show how much of the gap to the bare server is the
 * required work itself, and how much is queueshift's own code. Besides requests/s and latency, each
 * target's CPU time per request, read from outside the process: on a shared machine requests/s
 * follow the load from elsewhere, CPU per request much less. The streams are trimmed while the
 * benchmark runs, as the workers' trimming keeps them in a running system: an ever-growing stream
 * would make the stream Redis (AOF on) rewrite gigabytes mid-round. Needs the test environment
 * (`npm run env:up`). Run: `node bench/webhook-ingest.ts`; `BENCH_CPU_PROF_DIR=dir` adds CPU
 * profiles of the webhooks.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { CreateQueueCommand, DeleteQueueCommand } from '@aws-sdk/client-sqs';
import { Redis } from 'ioredis';
import { byName, field } from '../src/adapter/redis-streams/reply-shape.ts';
import { freePort, LOOPBACK } from '../test/env/ports.ts';
import { sqsClient } from '../test/env/sqs.ts';
import { required } from '../test/env/test-environment.ts';
import { measureCpu } from './webhook-ingest-cpu.ts';
import { drive, type LoadResult } from './webhook-ingest-load.ts';
import { PUSH_EVENT, pushBody as body } from './webhook-ingest-payload.ts';

const CONNECTIONS = Number(process.env['BENCH_CONNECTIONS'] ?? '16');
const WARMUP_SECONDS = 3;
/** The targets take turns, round after round, so that load from elsewhere on the machine hits all alike. */
const ROUNDS = 5;
const ROUND_SECONDS = 4;
const TARGET_RATIO = 0.6;
/** How often, and down to about how many entries, the streams are trimmed while the targets run. */
const TRIM_EVERY_MS = 250;
const TRIM_TO_ENTRIES = 10_000;
/** When set, the webhooks write V8 CPU profiles there on exit (`--cpu-prof`), for finding where time goes. */
const PROFILE_DIR = process.env['BENCH_CPU_PROF_DIR'];

const repo = (relative: string): string => fileURLToPath(new URL(relative, import.meta.url));
const secret = randomUUID();

interface Target {
  name: string;
  path: string;
  start: (port: number) => ChildProcess;
  /** Resolves once the target serves. */
  ready: (port: number) => Promise<void>;
}

async function answers(url: string): Promise<boolean> {
  try {
    return (await fetch(url)).status === 200;
  } catch {
    return false;
  }
}

async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

const profiling = PROFILE_DIR === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`];

function webhook(name: string, env: Record<string, string>): Target {
  return {
    name,
    path: '/webhook',
    start: (port) =>
      spawn(process.execPath, [...profiling, repo('../src/cli/main.ts'), 'webhook'], {
        env: {
          PATH: process.env['PATH'] ?? '',
          PORT: String(port),
          LISTEN_HOST: LOOPBACK,
          LOG_LEVEL: 'warn',
          WEBHOOK_SECRET: secret,
          ...env,
        },
        stdio: ['ignore', 'inherit', 'inherit'],
      }),
    ready: (port) => until(() => answers(`http://${LOOPBACK}:${port}/readyz`), `${name} to be ready`),
  };
}

/** A server of this folder that prints `listening` once it serves. */
function benchServer(name: string, file: string, args: (port: number) => string[]): Target {
  return {
    name,
    path: '/webhook',
    start: (port) =>
      spawn(process.execPath, [repo(file), ...args(port)], {
        stdio: ['ignore', 'pipe', 'inherit'],
      }),
    ready: () => Promise.resolve(),
  };
}

interface Running {
  target: Target;
  url: string;
  child: ChildProcess;
  pid: number;
  warmUp?: LoadResult;
  rounds: Round[];
}

interface Round {
  load: LoadResult;
  /** CPU seconds the target used during the round. */
  cpuSeconds: number;
}

async function start(target: Target): Promise<Running> {
  const port = await freePort();
  const child = target.start(port);
  if (child.pid === undefined) throw new Error(`${target.name} did not start`);
  const { pid } = child;
  if (child.stdout) {
    const lines = createInterface({ input: child.stdout });
    await new Promise<void>((resolve) => {
      lines.once('line', () => {
        resolve();
      });
    });
  }
  await target.ready(port);
  return { target, url: `http://${LOOPBACK}:${port}${target.path}`, child, pid, rounds: [] };
}

async function stop(running: Running): Promise<void> {
  const exited = new Promise((resolve) => running.child.once('exit', resolve));
  running.child.kill('SIGTERM');
  await exited;
}

function load(running: Running, durationSeconds: number): Promise<LoadResult> {
  return drive({
    url: running.url,
    connections: CONNECTIONS,
    durationSeconds,
    event: PUSH_EVENT,
    body,
    secret,
  });
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
};

const sum = (values: number[]): number => values.reduce((total, value) => total + value, 0);

interface Summary {
  name: string;
  requestsPerSecond: number;
  p50: number;
  p99: number;
  /**
   * The target's CPU time per request, in microseconds: in its least disturbed round (contention
   * from elsewhere on the machine only ever adds to it) and over all rounds.
   */
  cpuMicros: { best: number; overall: number };
  /** Answered 2xx, warm-up included: what the queue must hold. */
  accepted: number;
  failed: number;
}

function summarise(running: Running): Summary {
  const loads = running.rounds.map((round) => round.load);
  return {
    name: running.target.name,
    requestsPerSecond: median(loads.map((r) => r.requests.average)),
    p50: median(loads.map((r) => r.latency.p50)),
    p99: median(loads.map((r) => r.latency.p99)),
    cpuMicros: {
      best: Math.min(...running.rounds.map((r) => (r.cpuSeconds / r.load.requests.total) * 1e6)),
      overall: (sum(running.rounds.map((r) => r.cpuSeconds)) / sum(loads.map((r) => r.requests.total))) * 1e6,
    },
    accepted: [running.warmUp, ...loads].reduce((total, r) => total + (r?.['2xx'] ?? 0), 0),
    failed: sum(loads.map((r) => r.non2xx + r.errors + r.timeouts)),
  };
}

function row(summary: Summary, baseline: Summary): string {
  return [
    summary.name.padEnd(26),
    `${summary.requestsPerSecond.toFixed(0).padStart(7)} req/s`,
    `${((summary.requestsPerSecond / baseline.requestsPerSecond) * 100).toFixed(0).padStart(4)} %`,
    `p50 ${summary.p50.toFixed(1).padStart(5)} ms`,
    `p99 ${summary.p99.toFixed(1).padStart(5)} ms`,
    `CPU ${summary.cpuMicros.best.toFixed(0).padStart(4)} µs/request (all rounds ${summary.cpuMicros.overall.toFixed(0)})`,
    `non-2xx or errors ${summary.failed}`,
  ].join('  ');
}

/** What the stream has taken in since it was created, trimmed entries included (Redis 7+). */
async function entriesAdded(redis: Redis, stream: string): Promise<number> {
  const info = byName(await redis.call('XINFO', 'STREAM', stream), stream, 'XINFO STREAM');
  return Number(field(info, 'entries-added', stream, 'XINFO STREAM'));
}

/** Keeps the streams bounded while the targets publish, as the workers' trimming does; stops on abort. */
function trimWhileRunning(redis: Redis, streams: readonly string[], signal: AbortSignal): Promise<void> {
  return (async () => {
    while (!signal.aborted) {
      await Promise.all(streams.map((stream) => redis.xtrim(stream, 'MAXLEN', '~', TRIM_TO_ENTRIES)));
      await sleep(TRIM_EVERY_MS, undefined, { signal }).catch(() => undefined);
    }
  })();
}

const percent = (part: number, whole: number): string => `${((part / whole) * 100).toFixed(0)} %`;

async function main(): Promise<void> {
  const { streams } = required('redis');
  const sqs = required('sqs');
  const run = randomUUID();
  const webhookStream = `queueshift-bench:webhook-ingest:${run}`;
  const floorStream = `queueshift-bench:webhook-ingest-floor:${run}`;
  const client = sqsClient(sqs);
  const { QueueUrl } = await client.send(new CreateQueueCommand({ QueueName: `qs-bench-ingest-${run}` }));
  if (QueueUrl === undefined) throw new Error('the SQS emulator returned no queue URL');
  const redis = new Redis({ host: streams.host, port: streams.port });
  const trimming = new AbortController();
  const trimmed = trimWhileRunning(redis, [webhookStream, floorStream], trimming.signal);
  try {
    console.log(
      `webhook ingest: ${body.length} B push payload, ${CONNECTIONS} connections, ${WARMUP_SECONDS} s warm-up, ` +
        `${ROUNDS} rounds of ${ROUND_SECONDS} s per target taken in turns, medians reported, Node ${process.versions.node}`,
    );
    const floor = 'webhook-ingest-floor-server.ts';
    const targets = [
      benchServer('bare node:http', './webhook-ingest-bare-server.ts', (port) => [String(port)]),
      benchServer('floor: signature + JSON', floor, (port) => ['checks', String(port), secret]),
      benchServer('floor: + one XADD', floor, (port) => [
        'publish',
        String(port),
        secret,
        String(streams.port),
        floorStream,
      ]),
      webhook('queueshift webhook (redis)', {
        QUEUE_TYPE: 'redis',
        REDIS_ADDRESS: `${streams.host}:${streams.port}`,
        REDIS_STREAM_NAME: webhookStream,
      }),
      webhook('queueshift webhook (sqs)', {
        QUEUE_TYPE: 'sqs',
        SQS_QUEUE_URL: QueueUrl,
        AWS_REGION: sqs.region,
        AWS_ENDPOINT_URL: sqs.endpoint,
        AWS_ACCESS_KEY_ID: 'queueshift-bench',
        AWS_SECRET_ACCESS_KEY: randomUUID(),
      }),
    ];
    const running: Running[] = [];
    try {
      for (const target of targets) running.push(await start(target));
      for (const server of running) server.warmUp = await load(server, WARMUP_SECONDS);
      for (let round = 0; round < ROUNDS; round += 1) {
        for (const server of running) {
          const { value, cpu } = await measureCpu(server.pid, () => load(server, ROUND_SECONDS));
          server.rounds.push({ load: value, cpuSeconds: cpu });
        }
      }
      const summaries = running.map(summarise);
      const [baseline, checks, publish, viaRedis, viaSqs] = summaries as [
        Summary,
        Summary,
        Summary,
        Summary,
        Summary,
      ];
      for (const summary of summaries) console.log(row(summary, baseline));
      const published = await entriesAdded(redis, webhookStream);
      const ratio = viaRedis.requestsPerSecond / baseline.requestsPerSecond;
      console.log(
        `redis path: ${percent(viaRedis.requestsPerSecond, baseline.requestsPerSecond)} of the bare server's requests/s ` +
          `(target ${TARGET_RATIO * 100} %), ${percent(viaRedis.requestsPerSecond, publish.requestsPerSecond)} of the ` +
          `floor that does only the required work and one XADD; CPU ${viaRedis.cpuMicros.best.toFixed(0)} µs/request ` +
          `against the floor's ${publish.cpuMicros.best.toFixed(0)} and the bare server's ${baseline.cpuMicros.best.toFixed(0)} (best rounds).`,
      );
      console.log(
        `the required checks alone (signature, JSON) reach ${percent(checks.requestsPerSecond, baseline.requestsPerSecond)} ` +
          `of the bare server's requests/s (${checks.cpuMicros.best.toFixed(0)} µs/request), before anything is published.`,
      );
      console.log(
        `the webhook's stream took in ${published} entries for ${viaRedis.accepted} deliveries accepted (warm-up included; ` +
          `each run ends with up to ${CONNECTIONS} requests in flight, published but not counted by the load tool). ` +
          `The machine may be shared: figures are indicative; bench/webhook-ingest-parts.ts breaks the webhook's time down by step.`,
      );
      if (ratio < TARGET_RATIO || viaRedis.failed + viaSqs.failed > 0) process.exitCode = 1;
    } finally {
      await Promise.all(running.map(stop));
    }
  } finally {
    trimming.abort();
    await trimmed;
    await redis.del(webhookStream, floorStream);
    redis.disconnect();
    await client.send(new DeleteQueueCommand({ QueueUrl }));
    client.destroy();
  }
}

await main();
