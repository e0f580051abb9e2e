// Benchmark of the queue adapter's Redis Streams path against BullMQ and redis-benchmark, all on
// one private Redis in one run. Prints each figure, its ratio to the baseline, and where the time
// goes (CPU of this process and of Redis, and Redis commands, per message).
//   node bench/adapter-throughput.ts [--messages 20000] [--concurrency 50] [--rate 2000] [--seconds 5]
//                                    [--rounds 3] [--only queueshift|bullmq]
//
// Fairness: both sides get the same Redis, concurrency, payload and measurement (consumers are
// started inside the timed window, and get the same head start before pacing); BullMQ removes
// finished jobs (removeOnComplete / removeOnFail), as a production setup does. Each side is warmed
// up (untimed) before the first round, the rounds alternate which side goes first, and the figures
// compared are the medians over the rounds (of throughput, and of each round's latency percentiles):
// on a small shared machine one round's ratio is mostly noise. CPU per message counts everything
// this process or Redis did during the phase: client library, adapter, garbage collection.
// The machine may be shared: wall-clock ratios then swing from round to round, while CPU per message,
// commands sent per message and socket writes per message hardly move; all are reported.
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
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
    rounds: { type: 'string', default: '3' },
    only: { type: 'string' },
  },
});
const MESSAGES = Number(args.messages);
const CONCURRENCY = Number(args.concurrency);
const RATE = Number(args.rate);
const PACED_SECONDS = Number(args.seconds);
const ROUNDS = Number(args.rounds);
const WARM_UP_MESSAGES = Math.min(MESSAGES, 5_000);
const PAYLOAD = JSON.stringify({ filler: 'x'.repeat(1_000) }); // ~1 KiB, like a small webhook
/** Both consumers get this long to connect before pacing starts, so neither pays for it in latency. */
const CONSUMER_START_MS = 200;
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
  return {
    port,
    stop: () => {
      child.kill('SIGKILL');
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Runs `task(i)` for i in [0, count) with at most `limit` in flight. */
async function bounded(count: number, limit: number, task: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < count) await task(next++);
    }),
  );
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

function median(values: readonly number[]): number {
  return percentile(
    [...values].sort((a, b) => a - b),
    50,
  );
}

/** Calls `send(i)` at a steady rate for `seconds`; resolves once every call was started. */
async function paced(seconds: number, rate: number, send: (i: number) => void): Promise<void> {
  const total = seconds * rate;
  const started = performance.now();
  for (let i = 0; i < total; i++) {
    const due = started + (i * 1_000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait);
    send(i);
  }
}

/**
 * Send times and end-to-end latencies of paced messages, by message index, in arrays allocated up
 * front: bookkeeping that allocated per message would add its own GC pauses to both sides' tails.
 */
class LatencyLog {
  private readonly sentAt: Float64Array;
  private readonly latencies: Float64Array;
  private handled = 0;

  constructor(size: number) {
    this.sentAt = new Float64Array(size).fill(Number.NaN);
    this.latencies = new Float64Array(size);
  }

  sent(index: number): void {
    this.sentAt[index] = performance.now();
  }

  /** A redelivery of an already handled message is not measured again. */
  received(index: number): void {
    if (this.handled < this.latencies.length) {
      this.latencies[this.handled++] = performance.now() - (this.sentAt[index] ?? Number.NaN);
    }
  }

  values(): number[] {
    return Array.from(this.latencies.subarray(0, this.handled));
  }
}

/** What one timed phase cost, per message: wall time, CPU here and in Redis, Redis commands. */
interface Phase {
  perSecond: number;
  nodeCpuUs: number;
  redisCpuUs: number;
  /** Commands this process sent (scripts count once): each is a request on the wire. */
  sent: number;
  /** Socket writes of this process: a pipeline of commands goes out in one. */
  writes: number;
  /** Commands Redis ran, by name, including those run by scripts. */
  commands: Map<string, number>;
}

type Method = (...args: unknown[]) => unknown;

/** Wraps `target[name]` so that `count` runs before every call; the call itself goes through unchanged. */
function countCalls<K extends string>(target: Record<K, Method>, name: K, count: () => void): void {
  const original = target[name];
  target[name] = function (this: unknown, ...args: unknown[]) {
    count();
    return original.apply(this, args);
  };
}

/**
 * Counts, in this process, the commands every ioredis client sends (BullMQ's included: it uses the
 * same ioredis) and the socket writes they go out in. Instrumentation only: both call through.
 */
class ClientCounter {
  commands = 0;
  writes = 0;

  constructor() {
    countCalls(Redis.prototype as unknown as Record<'sendCommand', Method>, 'sendCommand', () => {
      this.commands += 1;
    });
    const socket = net.Socket.prototype as unknown as Record<'_write' | '_writev', Method>;
    for (const name of ['_write', '_writev'] as const) {
      countCalls(socket, name, () => {
        this.writes += 1;
      });
    }
  }
}

interface Round {
  publish: Phase;
  consume: Phase;
  /** End-to-end latency of every paced message, ms. */
  latencies: number[];
}

interface Side {
  name: string;
  publishName: string;
  consumeName: string;
  /** One untimed pass of every phase, so that neither side's first round pays for JIT compilation. */
  warmUp(): Promise<void>;
  round(index: number): Promise<Round>;
}

/** Redis-side counters read around each phase, through a connection of its own. */
class RedisMeter {
  private readonly client: Redis;
  private readonly counter = new ClientCounter();

  constructor(port: number) {
    this.client = new Redis({ host: LOOPBACK, port });
  }

  async measure(messages: number, work: () => Promise<void>): Promise<Phase> {
    const [commandsBefore, redisCpuBefore] = [await this.commandCalls(), await this.cpuSeconds()];
    const [sentBefore, writesBefore] = [this.counter.commands, this.counter.writes];
    const cpuBefore = process.cpuUsage();
    const started = performance.now();
    await work();
    const elapsed = performance.now() - started;
    const cpu = process.cpuUsage(cpuBefore);
    const [sent, writes] = [this.counter.commands - sentBefore, this.counter.writes - writesBefore];
    const [commandsAfter, redisCpuAfter] = [await this.commandCalls(), await this.cpuSeconds()];
    const commands = new Map<string, number>();
    for (const [name, calls] of commandsAfter) {
      const perMessage = (calls - (commandsBefore.get(name) ?? 0)) / messages;
      if (perMessage >= 0.001 && name !== 'info') commands.set(name, perMessage);
    }
    return {
      perSecond: (messages * 1_000) / elapsed,
      nodeCpuUs: (cpu.user + cpu.system) / messages,
      redisCpuUs: ((redisCpuAfter - redisCpuBefore) * 1e6) / messages,
      sent: sent / messages,
      writes: writes / messages,
      commands,
    };
  }

  close(): void {
    this.client.disconnect();
  }

  private async commandCalls(): Promise<Map<string, number>> {
    const info = await this.client.info('commandstats');
    const calls = new Map<string, number>();
    for (const [, name, count] of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm))
      calls.set(name ?? '', Number(count));
    return calls;
  }

  private async cpuSeconds(): Promise<number> {
    const info = await this.client.info('cpu');
    const field = (name: string): number => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1]);
    return field('used_cpu_user') + field('used_cpu_sys');
  }
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
function queueshift(port: number, meter: RedisMeter): Side {
  async function throughput(stream: string, messages: number): Promise<Pick<Round, 'publish' | 'consume'>> {
    const { producer: producerConfig, consumer } = configs(port, stream);
    const producer = createProducer(producerConfig, { logger });
    const publish = await meter.measure(messages, () =>
      bounded(messages, CONCURRENCY, (i) =>
        producer.publish({ deliveryId: `${stream}-${i}`, body: PAYLOAD }),
      ),
    );
    await producer.close();
    // Started inside the measurement, as the worker is: both pay for connecting and their first fetch.
    let pool: ReturnType<typeof startConsumer> | undefined;
    const consume = await meter.measure(messages, () => {
      pool = startConsumer(consumer, messages, () => undefined);
      return pool.done;
    });
    await pool?.stop();
    return { publish, consume };
  }

  async function latencies(stream: string, seconds: number): Promise<number[]> {
    if (seconds * RATE < 1) return [];
    const { producer: producerConfig, consumer } = configs(port, stream);
    const producer = createProducer(producerConfig, { logger });
    const log = new LatencyLog(seconds * RATE);
    const pool = startConsumer(consumer, seconds * RATE, (id) => {
      log.received(Number(id.slice(id.lastIndexOf('-') + 1)));
    });
    await sleep(CONSUMER_START_MS);
    await paced(seconds, RATE, (i) => {
      log.sent(i);
      void producer.publish({ deliveryId: `${stream}-${i}`, body: PAYLOAD });
    });
    await pool.done;
    await Promise.all([pool.stop(), producer.close()]);
    return log.values();
  }

  return {
    name: 'queueshift',
    publishName: 'queueshift publish',
    consumeName: 'queueshift consume',
    async warmUp() {
      await throughput('bench:qs:warm-up', WARM_UP_MESSAGES);
      await latencies('bench:qs:warm-up-paced', Math.min(PACED_SECONDS, 1));
    },
    async round(index) {
      const figures = await throughput(`bench:qs:${index}`, MESSAGES);
      return { ...figures, latencies: await latencies(`bench:qs:${index}:paced`, PACED_SECONDS) };
    },
  };
}

/** A running consumer pool; `done` resolves once `count` messages were acknowledged. */
function startConsumer(
  config: ConsumerConfig,
  count: number,
  onHandled: (id: string) => void,
): { done: Promise<void>; stop: () => Promise<void> } {
  let acked = 0;
  const pool = createConsumer(
    config,
    (message) => {
      onHandled(message.deliveryId);
      return Promise.resolve({ kind: 'ack' });
    },
    { logger },
  );
  const done = new Promise<void>((resolve) => {
    pool.on('acked', () => {
      if (++acked === count) resolve();
    });
  });
  const stop = new AbortController();
  const running = pool.run(stop.signal);
  return {
    done,
    stop: async () => {
      stop.abort();
      await running;
      await pool.close();
    },
  };
}

/** The same jobs through BullMQ: add, and a worker whose processor does nothing. */
function bullmq(port: number, meter: RedisMeter): Side {
  const connection = { host: LOOPBACK, port, maxRetriesPerRequest: null };
  const options = { removeOnComplete: true, removeOnFail: true };

  async function throughput(name: string, messages: number): Promise<Pick<Round, 'publish' | 'consume'>> {
    const queue = new Queue(name, { connection });
    await queue.waitUntilReady();
    const publish = await meter.measure(messages, () =>
      bounded(messages, CONCURRENCY, (i) => queue.add('job', { i, PAYLOAD }, options)),
    );
    await queue.close();
    let worker: ReturnType<typeof startWorker> | undefined;
    const consume = await meter.measure(messages, () => {
      worker = startWorker(name, messages, () => undefined);
      return worker.done;
    });
    await worker?.stop();
    return { publish, consume };
  }

  async function latencies(name: string, seconds: number): Promise<number[]> {
    if (seconds * RATE < 1) return [];
    const queue = new Queue(name, { connection });
    await queue.waitUntilReady();
    const log = new LatencyLog(seconds * RATE);
    const worker = startWorker(name, seconds * RATE, (i) => {
      log.received(i);
    });
    await sleep(CONSUMER_START_MS);
    await paced(seconds, RATE, (i) => {
      log.sent(i);
      void queue.add('job', { i, PAYLOAD }, options);
    });
    await worker.done;
    await Promise.all([worker.stop(), queue.close()]);
    return log.values();
  }

  function startWorker(
    name: string,
    count: number,
    onJob: (i: number) => void,
  ): { done: Promise<void>; stop: () => Promise<void> } {
    let completed = 0;
    const worker = new Worker(
      name,
      (job) => {
        onJob((job.data as { i: number }).i);
        return Promise.resolve();
      },
      { connection, concurrency: CONCURRENCY, removeOnComplete: { count: 0 }, removeOnFail: { count: 0 } },
    );
    const done = new Promise<void>((resolve) => {
      worker.on('completed', () => {
        if (++completed === count) resolve();
      });
    });
    return { done, stop: () => worker.close() };
  }

  return {
    name: 'BullMQ',
    publishName: 'BullMQ add',
    consumeName: 'BullMQ worker',
    async warmUp() {
      await throughput('bench-bullmq-warm-up', WARM_UP_MESSAGES);
      await latencies('bench-bullmq-warm-up-paced', Math.min(PACED_SECONDS, 1));
    },
    async round(index) {
      const figures = await throughput(`bench-bullmq-${index}`, MESSAGES);
      return { ...figures, latencies: await latencies(`bench-bullmq-${index}-paced`, PACED_SECONDS) };
    },
  };
}

/** redis-benchmark's XADD with the same payload and client count: the raw ceiling (`pipeline` per client). */
async function rawXadd(port: number, pipeline: number): Promise<number> {
  const { stdout } = await run('redis-benchmark', [
    ...['-h', LOOPBACK, '-p', String(port), '-c', String(CONCURRENCY), '-n', String(MESSAGES * 5)],
    ...['-P', String(pipeline), '-q'],
    ...['XADD', `bench:raw:${pipeline}`, '*', 'd', PAYLOAD],
  ]);
  const match = /([\d.]+) requests per second/.exec(stdout);
  if (!match?.[1]) throw new Error(`unexpected redis-benchmark output: ${stdout}`);
  return Number(match[1]);
}

/** Medians over the rounds of each per-message cost of a phase (commands: the median round's). */
interface Cost {
  nodeCpuUs: number;
  redisCpuUs: number;
  sent: number;
  writes: number;
  /** Share of the phase's wall time this process, and Redis, spent on a CPU. */
  nodeBusy: number;
  redisBusy: number;
  commands: Map<string, number>;
}

interface Summary {
  side: Side;
  rounds: Round[];
  publish: number;
  consume: number;
  p50: number;
  p99: number;
  publishCost: Cost;
  consumeCost: Cost;
}

/** A latency percentile of each round. */
function roundPercentiles(rounds: readonly Round[], p: number): number[] {
  return rounds.map((round) =>
    percentile(
      [...round.latencies].sort((a, b) => a - b),
      p,
    ),
  );
}

function cost(rounds: readonly Round[], pick: (round: Round) => Phase): Cost {
  const phases = rounds.map(pick);
  const of = (value: (phase: Phase) => number): number => median(phases.map(value));
  const byThroughput = [...phases].sort((a, b) => a.perSecond - b.perSecond);
  return {
    nodeCpuUs: of((phase) => phase.nodeCpuUs),
    redisCpuUs: of((phase) => phase.redisCpuUs),
    sent: of((phase) => phase.sent),
    writes: of((phase) => phase.writes),
    nodeBusy: of((phase) => (phase.nodeCpuUs * phase.perSecond) / 1e6),
    redisBusy: of((phase) => (phase.redisCpuUs * phase.perSecond) / 1e6),
    commands: byThroughput[Math.floor(byThroughput.length / 2)]?.commands ?? new Map<string, number>(),
  };
}

function summarise(side: Side, rounds: Round[]): Summary {
  return {
    side,
    rounds,
    publish: median(rounds.map((round) => round.publish.perSecond)),
    consume: median(rounds.map((round) => round.consume.perSecond)),
    p50: median(roundPercentiles(rounds, 50)),
    p99: median(roundPercentiles(rounds, 99)),
    publishCost: cost(rounds, (round) => round.publish),
    consumeCost: cost(rounds, (round) => round.consume),
  };
}

const percent = (share: number): string => `${(100 * share).toFixed(0)}%`.padStart(4);

function costLine(name: string, phase: Cost): string {
  const commands = [...phase.commands]
    .sort((a, b) => b[1] - a[1])
    .map(([command, calls]) => `${command} ${calls.toFixed(calls < 0.1 ? 3 : 2)}`)
    .join(', ');
  return (
    `  ${name.padEnd(20)} ${phase.nodeCpuUs.toFixed(1).padStart(6)} µs ${phase.redisCpuUs.toFixed(1).padStart(6)} µs` +
    `  ${phase.sent.toFixed(2).padStart(5)} ${phase.writes.toFixed(3).padStart(6)}` +
    `   ${percent(phase.nodeBusy)} ${percent(phase.redisBusy)} ${percent(Math.max(0, 1 - phase.nodeBusy - phase.redisBusy))}` +
    `   ${commands}`
  );
}

function report(raw: { single: number; pipelined: number }, summaries: Summary[]): void {
  const ratio = (a: number, b: number): string => `${(a / b).toFixed(2)}×`;
  const perSecond = (values: readonly number[]): string => values.map((v) => v.toFixed(0)).join(' / ');
  console.log(
    `adapter throughput: ${MESSAGES} messages of ~1 KiB, concurrency ${CONCURRENCY}, one Redis, ` +
      `${ROUNDS} rounds (medians; per-round figures in brackets)`,
  );
  console.log(`  raw XADD (redis-benchmark -c ${CONCURRENCY})         ${raw.single.toFixed(0)} /s`);
  console.log(`  raw XADD (redis-benchmark -c ${CONCURRENCY} -P 10)   ${raw.pipelined.toFixed(0)} /s`);
  for (const summary of summaries) {
    const { side, rounds } = summary;
    console.log(
      `  ${side.publishName.padEnd(20)} ${summary.publish.toFixed(0).padStart(7)} /s  [${perSecond(rounds.map((r) => r.publish.perSecond))}]`,
    );
    console.log(
      `  ${side.consumeName.padEnd(20)} ${summary.consume.toFixed(0).padStart(7)} /s  [${perSecond(rounds.map((r) => r.consume.perSecond))}]`,
    );
    console.log(
      `  ${`${side.name} at ${RATE}/s`.padEnd(20)} p50 ${summary.p50.toFixed(1)} ms  p99 ${summary.p99.toFixed(1)} ms  ` +
        `[p99 ${roundPercentiles(rounds, 99)
          .map((ms) => ms.toFixed(1))
          .join(' / ')}]`,
    );
  }
  const [ours, theirs] = summaries;
  if (ours && theirs) {
    console.log(
      `  ratios: publish ${ratio(ours.publish, theirs.publish)} (target ≥ 2×), ` +
        `consume+ack ${ratio(ours.consume, theirs.consume)} (target ≥ 2×, stretch 3×), ` +
        `p99 ${ratio(ours.p99, theirs.p99)} (target ≤ 0.5×)`,
    );
    const cpu = (side: Summary, phase: 'publishCost' | 'consumeCost'): number =>
      side[phase].nodeCpuUs + side[phase].redisCpuUs;
    console.log(
      `  CPU per message (this process + Redis), BullMQ's over ours: publish ` +
        `${ratio(cpu(theirs, 'publishCost'), cpu(ours, 'publishCost'))}, consume+ack ` +
        `${ratio(cpu(theirs, 'consumeCost'), cpu(ours, 'consumeCost'))} (the throughput ratio a ` +
        'CPU-bound host would see; machine contention distorts it far less than wall time)',
    );
  }
  if (ours?.side.name === 'queueshift') {
    const ceiling = (rate: number): string =>
      `${((100 * rate) / raw.single).toFixed(0)}% of raw XADD (${((100 * rate) / raw.pipelined).toFixed(0)}% of pipelined)`;
    console.log(
      `  queueshift publish reaches ${ceiling(ours.publish)}; consume+ack ${ceiling(ours.consume)}`,
    );
  }
  console.log(
    '  where the time goes, per message (medians): CPU of this process, CPU of Redis, commands sent, ' +
      'socket writes; share of wall time this process / Redis were on a CPU / neither (waiting on ' +
      'round trips, or on other processes); commands Redis ran, including those scripts run',
  );
  for (const summary of summaries) {
    console.log(costLine(summary.side.publishName, summary.publishCost));
    console.log(costLine(summary.side.consumeName, summary.consumeCost));
  }
}

const redis = await startRedis();
const meter = new RedisMeter(redis.port);
try {
  const raw = { single: await rawXadd(redis.port, 1), pipelined: await rawXadd(redis.port, 10) };
  const sides = [queueshift(redis.port, meter), bullmq(redis.port, meter)].filter(
    (side) => args.only === undefined || side.name.toLowerCase() === args.only.toLowerCase(),
  );
  if (sides.length === 0) throw new Error(`--only ${args.only}: expected queueshift or bullmq`);
  for (const side of sides) await side.warmUp();
  const rounds = new Map<Side, Round[]>(sides.map((side) => [side, []]));
  for (let index = 0; index < ROUNDS; index++) {
    // Alternating who goes first, so that neither side always meets the machine in the same state.
    for (const side of index % 2 === 0 ? sides : [...sides].reverse()) {
      rounds.get(side)?.push(await side.round(index));
    }
  }
  report(
    raw,
    sides.map((side) => summarise(side, rounds.get(side) ?? [])),
  );
} finally {
  meter.close();
  redis.stop();
}
