/**
 * Where the webhook's CPU time per delivery goes (issue 4's ingest target; bench/webhook-ingest.ts
 * gives the end-to-end figures). Each step the webhook takes for a delivery runs here, in this
 * process, with the real modules and the same push payload, and is timed in CPU microseconds per
 * call (process.cpuUsage, best of several rounds: on a shared machine, contention only ever adds).
 * The Redis publish runs through the adapter's Producer and, as its baseline, as a bare ioredis
 * XADD of the same entry fields, both with 16 publishes in flight. Needs the test environment.
 * Run: `node bench/webhook-ingest-parts.ts`.
 */
import { randomUUID } from 'node:crypto';
import { sign, verify } from '@octokit/webhooks-methods';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { createProducer, parseProducerEnv, type OutgoingMessage } from '../src/adapter/index.ts';
import { encodeEntry } from '../src/adapter/redis-streams/entry-codec.ts';
import { encodeEnvelope } from '../src/webhook/envelope.ts';
import { payloadJson } from '../src/webhook/payload.ts';
import { WebhookMetrics } from '../src/webhook/webhook-metrics.ts';
import { required } from '../test/env/test-environment.ts';
import { PUSH_EVENT, pushBody } from './webhook-ingest-payload.ts';

const ROUNDS = 7;
const CALLS_PER_ROUND = 2_000;
/** As many publishes in flight as the end-to-end benchmark has connections. */
const IN_FLIGHT = 16;

interface Part {
  name: string;
  /** One call of the step; the promise (if any) is awaited before the next call. */
  step: () => unknown;
  /** Runs `calls` steps IN_FLIGHT at a time instead of one after another. */
  concurrent?: boolean;
}

async function cpuMicrosPerCall(part: Part, calls: number): Promise<number> {
  const before = process.cpuUsage();
  if (part.concurrent === true) {
    let left = calls;
    await Promise.all(
      Array.from({ length: IN_FLIGHT }, async () => {
        for (; left > 0; left -= 1) await part.step();
      }),
    );
  } else {
    for (let i = 0; i < calls; i += 1) await part.step();
  }
  const { user, system } = process.cpuUsage(before);
  return (user + system) / calls;
}

function message(): OutgoingMessage {
  const deliveryId = randomUUID();
  const body = encodeEnvelope(
    { deliveryId, event: PUSH_EVENT, receivedAt: new Date().toISOString() },
    pushBody,
  );
  return { deliveryId, body, attributes: { event: PUSH_EVENT } };
}

async function main(): Promise<void> {
  const { streams } = required('redis');
  const stream = `queueshift-bench:webhook-parts:${randomUUID()}`;
  const secret = randomUUID();
  const signature = await sign(secret, pushBody);
  const bytes = Buffer.from(pushBody);
  const metrics = new WebhookMetrics(new Registry(), { primary: 'redis' });
  const accepted = { backend: 'redis', messageId: '0-1', usedFallback: false } as const;
  const parsed = parseProducerEnv({
    QUEUE_TYPE: 'redis',
    REDIS_ADDRESS: `${streams.host}:${streams.port}`,
    REDIS_STREAM_NAME: stream,
  });
  if (!parsed.ok) throw new Error(`producer configuration: ${JSON.stringify(parsed.problems)}`);
  const producer = createProducer(parsed.config, { logger: pino({ level: 'silent' }) });
  const redis = new Redis({ host: streams.host, port: streams.port });
  const parts: Part[] = [
    { name: 'body bytes to text', step: () => bytes.toString('utf8') },
    { name: 'signature (octokit verify)', step: () => verify(secret, pushBody, signature) },
    { name: 'payload check (JSON object)', step: () => payloadJson('application/json', pushBody) },
    { name: 'envelope (received-at, encode)', step: message },
    {
      name: 'metrics (received, accepted)',
      step: () => {
        metrics.received();
        metrics.accepted(accepted, 0.002);
      },
    },
    { name: 'publish: adapter Producer', step: () => producer.publish(message()), concurrent: true },
    {
      name: 'publish: ioredis XADD (baseline)',
      step: () => redis.call('XADD', stream, '*', ...encodeEntry(message())),
      concurrent: true,
    },
  ];
  try {
    await producer.ready();
    const best = new Map<string, number>();
    for (let round = 0; round <= ROUNDS; round += 1) {
      for (const part of parts) {
        const micros = await cpuMicrosPerCall(part, CALLS_PER_ROUND);
        // Round 0 warms the code up (JIT) and is not counted.
        if (round > 0) best.set(part.name, Math.min(best.get(part.name) ?? Infinity, micros));
      }
      // The stream is scratch: keep it from growing over the rounds.
      await redis.del(stream);
    }
    console.log(
      `webhook parts: ${pushBody.length} B push payload, CPU µs per call, best of ${ROUNDS} rounds of ` +
        `${CALLS_PER_ROUND}, Node ${process.versions.node}. The machine may be shared: figures are indicative.`,
    );
    for (const [name, micros] of best) console.log(`${name.padEnd(34)} ${micros.toFixed(1).padStart(6)} µs`);
    const adapter = best.get('publish: adapter Producer') ?? Number.NaN;
    const baseline = best.get('publish: ioredis XADD (baseline)') ?? Number.NaN;
    console.log(
      `adapter publish: ${(adapter - baseline).toFixed(1)} µs over a bare XADD (${((adapter / baseline) * 100).toFixed(0)} % of it)`,
    );
  } finally {
    await redis.del(stream);
    redis.disconnect();
    await producer.close();
  }
}

await main();
