import type { Logger } from 'pino';
import type {
  ConsumerConfig,
  IdempotencyConfig,
  ProducerConfig,
  RedisStreamsConfig,
  SqsConfig,
} from './config.ts';
import { systemClock, type Clock } from './clock.ts';
import { CoalescingClock } from './coalescing-clock.ts';
import { ConsumerPool, type ConsumerSource } from './consumer/consumer-pool.ts';
import type { Handler } from './consumer/handler.ts';
import { ConfigError } from './env-config.ts';
import { IdempotencyStore } from './idempotency/idempotency-store.ts';
import { Producer } from './producer/producer.ts';
import { createRedisClient, describeRedis } from './redis/connection.ts';
import { RedisStreamsBackend } from './redis-streams/redis-streams-backend.ts';
import { SqsBackend } from './sqs/sqs-backend.ts';
import type { BackendKind, QueueBackend } from './types.ts';

export interface AdapterDependencies {
  logger: Logger;
  /** Default: the system clock. */
  clock?: Clock;
}

export interface BackendSettings {
  redis?: RedisStreamsConfig | undefined;
  sqs?: SqsConfig | undefined;
}

/**
 * Idempotency calls are short scripts: one that has not answered in this time is treated as failed
 * (and retried), rather than holding a handler slot while a connection is re-established.
 */
const IDEMPOTENCY_COMMAND_TIMEOUT_MS = 5_000;

/** Heartbeats per visibility timeout / claim idle time: two may fail before a message is exposed. */
const KEEP_ALIVES_PER_RESERVATION = 3;

function refuse(variable: string, message: string): never {
  throw new ConfigError([{ variable, message }]);
}

/** The settings of a back end, or a refusal naming the variable that would provide them. */
function settingsOf(kind: 'sqs', settings: BackendSettings): SqsConfig;
function settingsOf(kind: 'redis', settings: BackendSettings): RedisStreamsConfig;
function settingsOf(kind: BackendKind, settings: BackendSettings): SqsConfig | RedisStreamsConfig;
function settingsOf(kind: BackendKind, settings: BackendSettings): SqsConfig | RedisStreamsConfig {
  const found = kind === 'sqs' ? settings.sqs : settings.redis;
  if (found === undefined) {
    refuse(
      kind === 'redis' ? 'REDIS_ADDRESS' : 'SQS_QUEUE_URL',
      `the ${kind} back end is used but has no ${kind} settings`,
    );
  }
  return found;
}

/** Refuses a kind it does not know instead of defaulting to one. */
function backendKind(kind: unknown, variable: string): BackendKind {
  if (kind === 'sqs' || kind === 'redis') return kind;
  return refuse(variable, `unknown back end ${JSON.stringify(kind)}; expected sqs or redis`);
}

/** One back end, for callers that drive it directly (the operator's stats, probes and drains). */
export function createBackend(
  kind: BackendKind,
  settings: BackendSettings,
  deps: AdapterDependencies,
): QueueBackend {
  // A read watchdog per blocking read, a request deadline per SQS call: nearly all cancelled early.
  const options = { logger: deps.logger, clock: new CoalescingClock(deps.clock ?? systemClock) };
  switch (backendKind(kind, 'QUEUE_TYPE')) {
    case 'sqs':
      return new SqsBackend(settingsOf('sqs', settings), options);
    case 'redis':
      return new RedisStreamsBackend(settingsOf('redis', settings), options);
  }
}

/** Closes what was built before a later part refused; that refusal is the error the caller sees. */
function closeQuietly(built: readonly QueueBackend[]): void {
  for (const backend of built) backend.close().catch(() => undefined);
}

/**
 * Builds several back ends; when one refuses its settings, those already built (and connecting)
 * are closed again.
 */
function createBackends(
  kinds: readonly BackendKind[],
  settings: BackendSettings,
  deps: AdapterDependencies,
): QueueBackend[] {
  const built: QueueBackend[] = [];
  try {
    for (const kind of kinds) built.push(createBackend(kind, settings, deps));
    return built;
  } catch (error) {
    closeQuietly(built);
    throw error;
  }
}

/** How long a received message stays reserved for its consumer before another may take it over. */
function reservationTimeMs(kind: BackendKind, settings: BackendSettings): number {
  return kind === 'sqs'
    ? settingsOf('sqs', settings).visibilityTimeoutSeconds * 1_000
    : settingsOf('redis', settings).claimIdleMs;
}

/** The back ends a consumer reads, with each one's delivery limit and heartbeat. */
function consumerSources(config: ConsumerConfig, deps: AdapterDependencies): ConsumerSource[] {
  const kinds: BackendKind[] =
    config.queueType === 'dual' ? ['sqs', 'redis'] : [backendKind(config.queueType, 'QUEUE_TYPE')];
  // Every setting is checked before the first back end opens anything.
  const limits = kinds.map((kind) => ({
    kind,
    maxDeliveries: settingsOf(kind, config).maxDeliveries,
    reservationMs: reservationTimeMs(kind, config),
  }));
  for (const { kind, reservationMs } of limits) {
    if (config.idempotency.leaseMs >= reservationMs) {
      deps.logger.warn(
        { backend: kind, leaseMs: config.idempotency.leaseMs, reservationMs },
        'the idempotency lease outlasts the time before another consumer may take a message over: after a ' +
          'crash the message comes back while its lease still blocks it, and each such retry spends a delivery',
      );
    }
  }
  const backends = createBackends(kinds, config, deps);
  return limits.map(({ maxDeliveries, reservationMs }, index) => ({
    backend: backends[index] as QueueBackend,
    maxDeliveries,
    keepAliveMs: reservationMs / KEEP_ALIVES_PER_RESERVATION,
  }));
}

export function createProducer(config: ProducerConfig, deps: AdapterDependencies): Producer {
  const primaryKind = backendKind(config.primary, 'QUEUE_TYPE');
  const fallbackKind =
    config.fallback === undefined ? undefined : backendKind(config.fallback, 'QUEUE_FALLBACK_TYPE');
  if (fallbackKind === primaryKind) {
    refuse('QUEUE_FALLBACK_TYPE', `must differ from QUEUE_TYPE (both are ${primaryKind})`);
  }
  const [primary, fallback] = createBackends(
    fallbackKind === undefined ? [primaryKind] : [primaryKind, fallbackKind],
    config,
    deps,
  ) as [QueueBackend, QueueBackend?];
  return new Producer({
    primary,
    ...(fallback !== undefined && { fallback }),
    publishTimeoutMs: config.publishTimeoutMs,
    // Every publish starts a budget timer, and nearly every one is cancelled within milliseconds.
    clock: new CoalescingClock(deps.clock ?? systemClock),
  });
}

/** The idempotency store; `owner` names the worker in its lease tokens (the consumer name). */
export function createIdempotencyStore(
  config: IdempotencyConfig,
  owner: string,
  deps: AdapterDependencies,
): IdempotencyStore {
  const client = createRedisClient(config.connection, {
    connectionName: `queueshift:idempotency:${owner}`,
  });
  // Connection errors also fail the commands that meet them, which report with their delivery;
  // this line says where the store is while ioredis reconnects.
  client.on('error', (error: Error) => {
    deps.logger.warn(
      { err: error, store: describeRedis(config.connection) },
      'idempotency store connection error',
    );
  });
  return new IdempotencyStore({
    client,
    keyPrefix: config.keyPrefix,
    leaseMs: config.leaseMs,
    doneRetentionMs: config.doneRetentionMs,
    owner,
    // Not ioredis's commandTimeout: that starts a runtime timer per command, two per message.
    commandTimeoutMs: IDEMPOTENCY_COMMAND_TIMEOUT_MS,
    clock: new CoalescingClock(deps.clock ?? systemClock),
  });
}

export function createConsumer(
  config: ConsumerConfig,
  handler: Handler,
  deps: AdapterDependencies,
): ConsumerPool {
  const sources = consumerSources(config, deps);
  let store: IdempotencyStore;
  try {
    store = createIdempotencyStore(config.idempotency, config.consumerName, deps);
  } catch (error) {
    closeQuietly(sources.map((source) => source.backend));
    throw error;
  }
  return new ConsumerPool({
    sources,
    store,
    handler,
    workers: config.workers,
    logger: deps.logger,
    // A handler timeout and a lease renewal per message, nearly all cancelled within milliseconds.
    clock: new CoalescingClock(deps.clock ?? systemClock),
  });
}
