/**
 * Shared by the redis-streams*.test.ts files: a configuration per test on a stream of its own
 * (tests share servers with other people's tests), a logger whose lines can be inspected, a
 * consumer loop, and clean-up of what a test created.
 */
import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import type { RedisConnectionConfig, RedisStreamsConfig } from '../../../src/adapter/config.ts';
import type { RedisStreamsOptions } from '../../../src/adapter/redis-streams/options.ts';
import { RedisStreamsBackend } from '../../../src/adapter/redis-streams/redis-streams-backend.ts';
import type { OutgoingMessage, ReceivedMessage } from '../../../src/adapter/types.ts';
import { withRedis, type RedisConnectionOptions } from '../../env/redis.ts';
import { required } from '../../env/test-environment.ts';
import { waitUntil } from '../../env/wait.ts';

/** The environment's stream Redis, as the adapter's configuration names it. */
export function streamsRedis(): RedisConnectionConfig {
  const { host, port } = required('redis').streams;
  return { endpoint: { kind: 'standalone', address: { host, port } } };
}

/** The TLS server as the adapter's configuration names it: CA, client certificate, ACL user. */
export function tlsStreamsRedis(): RedisConnectionConfig {
  const endpoint = required('tlsRedis');
  return {
    endpoint: { kind: 'standalone', address: { host: endpoint.host, port: endpoint.port } },
    username: endpoint.username,
    password: endpoint.password,
    tls: { caFile: endpoint.caFile, certFile: endpoint.certFile, keyFile: endpoint.keyFile },
  };
}

/** ioredis options for checking the same server behind the back end's back. */
export function streamsRedisOptions(): RedisConnectionOptions {
  const { host, port } = required('redis').streams;
  return { host, port };
}

/** Short timings so that claims and retries happen within a test; every test gets its own stream. */
export function testConfig(overrides: Partial<RedisStreamsConfig> = {}): RedisStreamsConfig {
  return {
    connection: streamsRedis(),
    stream: `queueshift:test:${randomUUID()}`,
    group: 'workers',
    consumerName: `consumer-${randomUUID().slice(0, 8)}`,
    blockMs: 100,
    claimIdleMs: 1_000,
    maxDeliveries: 5,
    ...overrides,
  };
}

export interface LogLine {
  level: number;
  msg: string;
  [field: string]: unknown;
}

/** A real pino logger whose JSON lines are kept for assertions. */
export class RecordingLogger {
  readonly lines: LogLine[] = [];
  readonly logger = pino(
    { level: 'debug' },
    new Writable({
      write: (chunk: Buffer, _encoding, done) => {
        this.lines.push(JSON.parse(chunk.toString('utf8')) as LogLine);
        done();
      },
    }),
  );

  /** Lines at `level` (pino: 40 warn, 50 error) whose message matches. */
  find(level: number, message: RegExp): LogLine[] {
    return this.lines.filter((line) => line.level === level && message.test(line.msg));
  }
}

/** Backends created by a test, closed and their keys deleted afterwards (whatever the outcome). */
export class BackendPool {
  private readonly backends: RedisStreamsBackend[] = [];
  private readonly keys = new Set<string>();
  private readonly cleanupOptions: () => RedisConnectionOptions;

  constructor(cleanupOptions: () => RedisConnectionOptions = streamsRedisOptions) {
    this.cleanupOptions = cleanupOptions;
  }

  create(config: RedisStreamsConfig, options: RedisStreamsOptions = {}): RedisStreamsBackend {
    const backend = new RedisStreamsBackend(config, { logger: new RecordingLogger().logger, ...options });
    this.backends.push(backend);
    this.keys.add(config.stream);
    this.keys.add(backend.deadLetterStream);
    return backend;
  }

  async cleanup(): Promise<void> {
    await Promise.all(this.backends.splice(0).map((b) => b.close()));
    const keys = [...this.keys];
    this.keys.clear();
    if (keys.length > 0) await withRedis(this.cleanupOptions(), (redis) => redis.del(...keys));
  }
}

export function delivery(index: number, attributes?: Record<string, string>): OutgoingMessage {
  return {
    deliveryId: `delivery-${index}-${randomUUID()}`,
    body: JSON.stringify({ index, payload: 'x'.repeat(64) }),
    ...(attributes !== undefined && { attributes }),
  };
}

/** Receives until `count` messages arrived (acknowledging none); fails after `timeoutMs`. */
export async function receiveCount(
  backend: RedisStreamsBackend,
  count: number,
  timeoutMs = 10_000,
): Promise<ReceivedMessage[]> {
  const received: ReceivedMessage[] = [];
  const signal = AbortSignal.timeout(timeoutMs);
  await waitUntil(
    async () => {
      received.push(...(await backend.receive(count - received.length, signal)));
      return received.length >= count;
    },
    {
      what: `${count} messages from ${backend.deadLetterStream.replace(/:dlq$/, '')}`,
      timeoutMs,
      intervalMs: 0,
    },
  );
  return received;
}

/** A consumer loop as a worker runs it: receive, "handle", acknowledge; errors are kept, not fatal. */
export class ConsumerLoop {
  readonly handled: ReceivedMessage[] = [];
  readonly errors: unknown[] = [];
  private readonly stop = new AbortController();
  private readonly done: Promise<void>;

  constructor(backend: RedisStreamsBackend) {
    this.done = (async () => {
      while (!this.stop.signal.aborted) {
        try {
          const batch = await backend.receive(10, this.stop.signal);
          this.handled.push(...batch);
          await backend.ack(batch);
        } catch (error) {
          this.errors.push(error);
        }
      }
    })();
  }

  async handledDelivery(deliveryId: string, timeoutMs = 10_000): Promise<ReceivedMessage> {
    return waitUntil(() => this.handled.find((m) => m.deliveryId === deliveryId), {
      what: `delivery ${deliveryId} to be handled`,
      timeoutMs,
    });
  }

  async close(): Promise<void> {
    this.stop.abort();
    await this.done;
  }
}
