// Benchmark of the queue adapter's Redis Streams path against BullMQ and redis-benchmark, all on
// one private Redis in one run. Prints each figure and its ratio to the baseline.
//   node bench/adapter-throughput.ts [--messages 20000] [--concurrency 50] [--rate 2000] [--seconds 5]
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs, promisify } from 'node:util';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import type { ConsumerConfig, ProducerConfig } from '../src/adapter/config.ts';
import { parseConsumerEnv, parseProducerEnv, type Environment } from '../src/adapter/env-config.ts';
import { createConsumer, createProducer } from '../src/adapter/factory.ts';
import { freePort, LOOPBACK } from '../test/env/ports.ts';
import { waitUntil } from '../test/env/wait.ts';

const run = promisify(execFile);
const { values: args } = parseArgs({
  options: {
    messages: { type: 'string', default: '20000' },
    concurrency: { type: 'string', default: '50' },
    rate: { type: 'string', default: '2000' },
    seconds: { type: 'string', default: '5' },
  },
});
const MESSAGES = Number(args.messages);
const CONCURRENCY = Number(args.concurrency);
const RATE = Number(args.rate);
const PACED_SECONDS = Number(args.seconds);
const PAYLOAD = JSON.stringify({ filler: 'x'.repeat(1_000) }); // ~1 KiB, like a small webhook
const logger = pino({ level: 'silent' });

async function startRedis(): Promise<{ port: number; stop: () => void }> {
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qs-bench-redis-'));
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', LOOPBACK, '--save', '', '--appendonly', 'no', '--dir', dir],
    { stdio: 'ignore' },
  );
  const probe = new Redis({ port, host: LOOPBACK, lazyConnect: true, retryStrategy: () => null });
  probe.on('error', () => undefined); // refused until the server listens; waitUntil retries
  await waitUntil(
    async () => {
      await probe.connect().catch(() => undefined);
      await probe.ping();
      return true;
    },
    { what: `the bench Redis on ${port}` },
  );
  probe.disconnect();
  return { port, stop: () => child.kill('SIGKILL') };
}

/** Runs `task(i)` for i in [0, count) with at most `limit` in flight; resolves to the elapsed ms. */
async function bounded(count: number, limit: number, task: (i: number) => Promise<unknown>): Promise<number> {
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < count) await task(next++);
    }),
  );
  return performance.now() - started;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

/** Calls `send(i)` at a steady rate for `seconds`; resolves once every call was started. */
async function paced(seconds: number, rate: number, send: (i: number) => void): Promise<number> {
  const total = seconds * rate;
  const started = performance.now();
  for (let i = 0; i < total; i++) {
    const due = started + (i * 1_000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait);
    send(i);
  }
  return total;
}

interface Figures {
  publishPerSecond: number;
  consumePerSecond: number;
  p50: number;
  p99: number;
}

function env(port: number, stream: string): Environment {
  return {
    QUEUE_TYPE: 'redis',
    REDIS_ADDRESS: `${LOOPBACK}:${port}`,
    REDIS_STREAM_NAME: stream,
    REDIS_CONSUMER_GROUP: 'bench',
    REDIS_BLOCK_DURATION: '100ms',
    WORKER_COUNT: String(CONCURRENCY),
    WORKER_BATCH_SIZE: String(Math.min(CONCURRENCY, 100)),
    IDEMPOTENCY_KEY_PREFIX: `${stream}:idem:`,
  };
}

function configs(port: number, stream: string): { producer: ProducerConfig; consumer: ConsumerConfig } {
  const producer = parseProducerEnv(env(port, stream));
  const consumer = parseConsumerEnv(env(port, stream));
  if (!producer.ok || !consumer.ok) throw new Error('bench configuration rejected');
  return { producer: producer.config, consumer: consumer.config };
}

/** The production path: producer publish; consumer with lease, done mark and acknowledgement. */
async function queueshift(port: number): Promise<Figures> {
  const throughput = configs(port, 'bench:qs');
  const producer = createProducer(throughput.producer, { logger });
  const publishMs = await bounded(MESSAGES, CONCURRENCY, (i) =>
    producer.publish({ deliveryId: `bench-${i}`, body: PAYLOAD }),
  );
  const consumeMs = await consumeAll(throughput.consumer, MESSAGES, () => undefined);

  const latency = configs(port, 'bench:qs-paced');
  const pacedProducer = createProducer(latency.producer, { logger });
  const sentAt = new Map<string, number>();
  const latencies: number[] = [];
  const expected = PACED_SECONDS * RATE;
  const consuming = consumeAll(latency.consumer, expected, (id) => {
    latencies.push(performance.now() - (sentAt.get(id) ?? Number.NaN));
  });
  await paced(PACED_SECONDS, RATE, (i) => {
    const id = `paced-${i}`;
    sentAt.set(id, performance.now());
    void pacedProducer.publish({ deliveryId: id, body: PAYLOAD });
  });
  await consuming;
  await Promise.all([producer.close(), pacedProducer.close()]);
  latencies.sort((a, b) => a - b);
  return {
    publishPerSecond: (MESSAGES * 1_000) / publishMs,
    consumePerSecond: (MESSAGES * 1_000) / consumeMs,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
  };
}

async function consumeAll(
  config: ConsumerConfig,
  count: number,
  onHandled: (id: string) => void,
): Promise<number> {
  let acked = 0;
  const pool = createConsumer(
    config,
    (message) => {
      onHandled(message.deliveryId);
      return Promise.resolve({ kind: 'ack' });
    },
    { logger },
  );
  const stop = new AbortController();
  const started = performance.now();
  const done = new Promise<void>((resolve) => {
    pool.on('acked', () => {
      if (++acked === count) resolve();
    });
  });
  const running = pool.run(stop.signal);
  await done;
  const elapsed = performance.now() - started;
  stop.abort();
  await running;
  await pool.close();
  return elapsed;
}

/** The same jobs through BullMQ: add, and a worker whose processor does nothing. */
async function bullmq(port: number): Promise<Figures> {
  const connection = { host: LOOPBACK, port, maxRetriesPerRequest: null };
  const options = { removeOnComplete: true, removeOnFail: true };
  const queue = new Queue('bench-bullmq', { connection });
  const publishMs = await bounded(MESSAGES, CONCURRENCY, (i) => queue.add('job', { i, PAYLOAD }, options));
  const consumeMs = await workAll('bench-bullmq', MESSAGES, () => undefined);

  const pacedQueue = new Queue('bench-bullmq-paced', { connection });
  const sentAt = new Map<number, number>();
  const latencies: number[] = [];
  const working = workAll('bench-bullmq-paced', PACED_SECONDS * RATE, (i) => {
    latencies.push(performance.now() - (sentAt.get(i) ?? Number.NaN));
  });
  await sleep(200); // the worker's first poll, as the queueshift consumer gets before pacing starts
  await paced(PACED_SECONDS, RATE, (i) => {
    sentAt.set(i, performance.now());
    void pacedQueue.add('job', { i, PAYLOAD }, options);
  });
  await working;
  await Promise.all([queue.close(), pacedQueue.close()]);
  latencies.sort((a, b) => a - b);
  return {
    publishPerSecond: (MESSAGES * 1_000) / publishMs,
    consumePerSecond: (MESSAGES * 1_000) / consumeMs,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
  };

  async function workAll(name: string, count: number, onJob: (i: number) => void): Promise<number> {
    let completed = 0;
    const started = performance.now();
    const worker = new Worker(
      name,
      (job) => {
        onJob((job.data as { i: number }).i);
        return Promise.resolve();
      },
      { connection, concurrency: CONCURRENCY, removeOnComplete: { count: 0 }, removeOnFail: { count: 0 } },
    );
    await new Promise<void>((resolve) => {
      worker.on('completed', () => {
        if (++completed === count) resolve();
      });
    });
    const elapsed = performance.now() - started;
    await worker.close();
    return elapsed;
  }
}

/** redis-benchmark's XADD figure with the same payload and client count: the raw ceiling. */
async function rawXadd(port: number): Promise<number> {
  const { stdout } = await run('redis-benchmark', [
    ...['-h', LOOPBACK, '-p', String(port), '-c', String(CONCURRENCY), '-n', String(MESSAGES * 5), '-q'],
    ...['XADD', 'bench:raw', '*', 'd', PAYLOAD],
  ]);
  const match = /([\d.]+) requests per second/.exec(stdout);
  if (!match?.[1]) throw new Error(`unexpected redis-benchmark output: ${stdout}`);
  return Number(match[1]);
}

async function commandStats(port: number): Promise<Map<string, number>> {
  const client = new Redis({ host: LOOPBACK, port });
  const info = await client.info('commandstats');
  client.disconnect();
  const calls = new Map<string, number>();
  for (const [, name, count] of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm))
    calls.set(name ?? '', Number(count));
  return calls;
}

const redis = await startRedis();
try {
  const raw = await rawXadd(redis.port);
  const before = await commandStats(redis.port);
  const ours = await queueshift(redis.port);
  const after = await commandStats(redis.port);
  const theirs = await bullmq(redis.port);
  const perMessage = [...after]
    .map(
      ([name, count]) =>
        [name, (count - (before.get(name) ?? 0)) / (2 * MESSAGES + PACED_SECONDS * RATE)] as const,
    )
    .filter(([, calls]) => calls >= 0.01)
    .sort((a, b) => b[1] - a[1]);
  const ratio = (a: number, b: number): string => `${(a / b).toFixed(2)}×`;
  console.log(`adapter throughput: ${MESSAGES} messages of ~1 KiB, concurrency ${CONCURRENCY}, one Redis`);
  console.log(`  raw XADD (redis-benchmark)        ${raw.toFixed(0)} /s`);
  console.log(
    `  publish        queueshift ${ours.publishPerSecond.toFixed(0)} /s   BullMQ add ${theirs.publishPerSecond.toFixed(0)} /s   ratio ${ratio(ours.publishPerSecond, theirs.publishPerSecond)} (target ≥ 2×), ${((100 * ours.publishPerSecond) / raw).toFixed(0)}% of raw XADD`,
  );
  console.log(
    `  consume+ack    queueshift ${ours.consumePerSecond.toFixed(0)} /s   BullMQ worker ${theirs.consumePerSecond.toFixed(0)} /s   ratio ${ratio(ours.consumePerSecond, theirs.consumePerSecond)} (target ≥ 2×, stretch 3×)`,
  );
  console.log(
    `  end-to-end at ${RATE}/s   queueshift p50 ${ours.p50.toFixed(1)} ms p99 ${ours.p99.toFixed(1)} ms   BullMQ p50 ${theirs.p50.toFixed(1)} ms p99 ${theirs.p99.toFixed(1)} ms   ratio ${ratio(ours.p99, theirs.p99)} (target ≤ 0.5×)`,
  );
  console.log(
    `  where the time goes (Redis commands per message, queueshift): ${perMessage.map(([n, c]) => `${n} ${c.toFixed(2)}`).join(', ')}`,
  );
} finally {
  redis.stop();
}
