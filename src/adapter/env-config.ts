/**
 * Builds the adapter's configuration from environment variables, the names the system already
 * uses. Every problem names its variable, so a service can exit with one line per problem.
 */
import { z } from 'zod';
import {
  duration,
  flag,
  hostPortList,
  hostPort,
  httpUrl,
  token,
  wholeNumber,
  type ConfigProblem,
  type Environment,
} from './env-fields.ts';
import type {
  ConsumerConfig,
  IdempotencyConfig,
  ProducerConfig,
  QueueType,
  RedisConnectionConfig,
  RedisStreamsConfig,
  SqsConfig,
} from './config.ts';
import type { BackendKind } from './types.ts';

export type { ConfigProblem, Environment } from './env-fields.ts';

export type ParseResult<T> =
  { ok: true; config: T; warnings: string[] } | { ok: false; problems: ConfigProblem[] };

/** Thrown by the `…OrThrow` helpers; `problems` holds one entry per variable. */
export class ConfigError extends Error {
  readonly problems: ConfigProblem[];
  constructor(problems: ConfigProblem[]) {
    super(problems.map((p) => `${p.variable}: ${p.message}`).join('\n'));
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/** Facts about the machine the parser needs; injectable so parsing stays testable. */
export interface ParseContext {
  fileExists: (path: string) => boolean;
  hostname: () => string;
}

/**
 * Collects problems while reading variables: each read either yields a value or records the
 * variable's problem, so one pass reports every bad variable at once.
 */
class Reader {
  readonly problems: ConfigProblem[] = [];
  readonly warnings: string[] = [];
  private readonly env: Environment;
  readonly context: ParseContext;

  constructor(env: Environment, context: ParseContext) {
    this.env = env;
    this.context = context;
  }

  raw(variable: string): string | undefined {
    const value = this.env[variable];
    return value === undefined || value.trim() === '' ? undefined : value;
  }

  optional<T>(variable: string, schema: z.ZodType<T, string>): T | undefined {
    const value = this.raw(variable);
    if (value === undefined) return undefined;
    const result = schema.safeParse(value);
    if (result.success) return result.data;
    this.problem(variable, result.error.issues[0]?.message ?? 'is invalid');
    return undefined;
  }

  withDefault<T>(variable: string, schema: z.ZodType<T, string>, fallback: T): T {
    return this.optional(variable, schema) ?? fallback;
  }

  required<T>(variable: string, schema: z.ZodType<T, string>, why: string): T | undefined {
    if (this.raw(variable) === undefined) {
      this.problem(variable, `is required ${why}`);
      return undefined;
    }
    return this.optional(variable, schema);
  }

  file(variable: string): string | undefined {
    const path = this.optional(variable, z.string().trim());
    if (path !== undefined && !this.context.fileExists(path)) {
      this.problem(variable, `file ${path} does not exist or cannot be read`);
    }
    return path;
  }

  problem(variable: string, message: string): void {
    if (!this.problems.some((p) => p.variable === variable)) this.problems.push({ variable, message });
  }

  /**
   * The parse outcome. `build` runs only when no variable had a problem, so it may rely on every
   * required value being present (it returns undefined only on a parser bug, reported as such).
   */
  result<T>(build: () => T | undefined): ParseResult<T> {
    if (this.problems.length > 0) return { ok: false, problems: this.problems };
    const config = build();
    if (config === undefined) throw new Error('configuration incomplete without a reported problem');
    return { ok: true, config, warnings: this.warnings };
  }
}

const QUEUE_TYPES = ['sqs', 'redis', 'dual'] as const;

function queueType(reader: Reader, role: 'producer' | 'consumer'): QueueType | undefined {
  const type = reader.required(
    'QUEUE_TYPE',
    z.enum(QUEUE_TYPES, `must be one of ${QUEUE_TYPES.join(', ')}`),
    '(sqs, redis, or dual for consumers)',
  );
  if (type === 'dual' && role === 'producer') {
    reader.problem('QUEUE_TYPE', 'dual is for consumers only; a producer publishes to sqs or redis');
    return undefined;
  }
  return type;
}

/** `REDIS_*` or `IDEMPOTENCY_REDIS_*`: the same shape under two prefixes. */
function redisConnection(reader: Reader, prefix: string, why: string): RedisConnectionConfig | undefined {
  const v = (suffix: string): string => `${prefix}${suffix}`;
  const sentinel = reader.withDefault(v('SENTINEL_ENABLED'), flag, false);
  let endpoint: RedisConnectionConfig['endpoint'] | undefined;
  if (sentinel) {
    const masterName = reader.required(v('SENTINEL_MASTER_NAME'), token, 'when Sentinel is enabled');
    const sentinels = reader.required(v('SENTINEL_ADDRESSES'), hostPortList, 'when Sentinel is enabled');
    if (masterName !== undefined && sentinels !== undefined)
      endpoint = { kind: 'sentinel', masterName, sentinels };
  } else {
    const address = reader.required(v('ADDRESS'), hostPort, why);
    if (address !== undefined) endpoint = { kind: 'standalone', address };
  }
  const username = reader.optional(v('USERNAME'), token);
  const password = reader.raw(v('PASSWORD'));
  const tlsEnabled = reader.withDefault(v('TLS_ENABLED'), flag, false);
  const caFile = reader.file(v('TLS_CA_FILE'));
  const certFile = reader.file(v('TLS_CERT_FILE'));
  const keyFile = reader.file(v('TLS_KEY_FILE'));
  if (!tlsEnabled && (caFile ?? certFile ?? keyFile) !== undefined) {
    reader.problem(v('TLS_ENABLED'), `must be true when ${v('TLS_*_FILE')} variables are set`);
  }
  if ((certFile === undefined) !== (keyFile === undefined)) {
    reader.problem(
      certFile === undefined ? v('TLS_CERT_FILE') : v('TLS_KEY_FILE'),
      'client certificate and key go together',
    );
  }
  if (endpoint === undefined) return undefined;
  return {
    endpoint,
    ...(username !== undefined && { username }),
    ...(password !== undefined && { password }),
    ...(tlsEnabled && {
      tls: {
        ...(caFile !== undefined && { caFile }),
        ...(certFile !== undefined && { certFile }),
        ...(keyFile !== undefined && { keyFile }),
      },
    }),
  };
}

function maxDeliveries(reader: Reader): number {
  return reader.withDefault('MAX_DELIVERIES', wholeNumber(1, 1_000), 5);
}

/** REDIS_CLAIM_IDLE when unset: pending entries idle this long are taken over by other consumers. */
export const DEFAULT_CLAIM_IDLE_MS = 60_000;

function redisStreams(reader: Reader, why: string): RedisStreamsConfig | undefined {
  const connection = redisConnection(reader, 'REDIS_', why);
  const stream = reader.withDefault('REDIS_STREAM_NAME', token, 'github-webhooks');
  const group = reader.withDefault('REDIS_CONSUMER_GROUP', token, 'webhook-workers');
  const maxLen = reader.optional('REDIS_MAX_LEN', wholeNumber(1, Number.MAX_SAFE_INTEGER));
  const blockMs = reader.withDefault('REDIS_BLOCK_DURATION', duration, 2_000);
  const claimIdleMs = reader.withDefault('REDIS_CLAIM_IDLE', duration, DEFAULT_CLAIM_IDLE_MS);
  const waitReplicas = reader.optional('REDIS_WAIT_REPLICAS', wholeNumber(1, 100));
  const waitTimeoutMs = reader.withDefault('REDIS_WAIT_TIMEOUT', duration, 1_000);
  if (blockMs < 10 || blockMs > 30_000)
    reader.problem('REDIS_BLOCK_DURATION', 'must be between 10ms and 30s');
  if (connection === undefined) return undefined;
  const podName = reader.raw('POD_NAME');
  return {
    connection,
    stream,
    group,
    consumerName: podName ?? reader.context.hostname(),
    ...(maxLen !== undefined && { maxLen }),
    blockMs,
    claimIdleMs,
    maxDeliveries: maxDeliveries(reader),
    ...(waitReplicas !== undefined && { waitReplicas: { replicas: waitReplicas, timeoutMs: waitTimeoutMs } }),
  };
}

function sqs(reader: Reader, why: string): SqsConfig | undefined {
  const queueUrl = reader.required('SQS_QUEUE_URL', httpUrl, why);
  const deadLetterQueueUrl = reader.optional('SQS_DLQ_URL', httpUrl);
  const region = reader.required('AWS_REGION', token, 'for SQS');
  const endpoint = reader.optional('AWS_ENDPOINT_URL', httpUrl);
  const waitTimeSeconds = reader.withDefault('SQS_WAIT_TIME_SECONDS', wholeNumber(0, 20), 10);
  const visibilityTimeoutSeconds = reader.withDefault(
    'SQS_VISIBILITY_TIMEOUT_SECONDS',
    wholeNumber(1, 43_200),
    60,
  );
  for (const [variable, value] of [
    ['SQS_QUEUE_URL', queueUrl],
    ['SQS_DLQ_URL', deadLetterQueueUrl],
  ] as const) {
    if (value?.endsWith('.fifo')) {
      reader.problem(
        variable,
        'FIFO queues are not supported: consuming SQS and Redis together cannot keep per-group order',
      );
    }
  }
  if (queueUrl === undefined || region === undefined) return undefined;
  return {
    queueUrl,
    ...(deadLetterQueueUrl !== undefined && { deadLetterQueueUrl }),
    region,
    ...(endpoint !== undefined && { endpoint }),
    waitTimeSeconds,
    visibilityTimeoutSeconds,
    maxDeliveries: maxDeliveries(reader),
  };
}

const defaultContext: ParseContext = {
  fileExists: () => true,
  hostname: () => 'localhost',
};

export function parseProducerEnv(
  env: Environment,
  context: ParseContext = defaultContext,
): ParseResult<ProducerConfig> {
  const reader = new Reader(env, context);
  const primary = queueType(reader, 'producer') as BackendKind | undefined;
  const fallback = reader.optional('QUEUE_FALLBACK_TYPE', z.enum(['sqs', 'redis'], 'must be sqs or redis'));
  if (fallback !== undefined && fallback === primary) {
    reader.problem('QUEUE_FALLBACK_TYPE', `must differ from QUEUE_TYPE (both are ${fallback})`);
  }
  const uses = (kind: BackendKind): boolean => primary === kind || fallback === kind;
  const publishTimeoutMs = reader.withDefault('PUBLISH_TIMEOUT', duration, 3_000);
  if (publishTimeoutMs < 50 || publishTimeoutMs > 8_000) {
    reader.problem('PUBLISH_TIMEOUT', 'must be between 50ms and 8s (GitHub gives up after 10s)');
  }
  const redis = uses('redis') ? redisStreams(reader, 'when publishing to Redis') : undefined;
  const queue = uses('sqs') ? sqs(reader, 'when publishing to SQS') : undefined;
  return reader.result(
    () =>
      primary && {
        primary,
        ...(fallback !== undefined && { fallback }),
        publishTimeoutMs,
        ...(redis && { redis }),
        ...(queue && { sqs: queue }),
      },
  );
}

/**
 * The variables that say where the idempotency store is, by precedence: its own, else the queue
 * Redis's. The operator's preflight reads the same list to tell whether a consumer's env locates it.
 */
export const IDEMPOTENCY_STORE_LOCATORS = [
  ['IDEMPOTENCY_REDIS_ADDRESS', 'IDEMPOTENCY_REDIS_SENTINEL_ENABLED'],
  ['REDIS_ADDRESS', 'REDIS_SENTINEL_ENABLED'],
] as const;

function idempotency(reader: Reader): IdempotencyConfig | undefined {
  // The store is the system's own setting; it defaults to the queue Redis when not set apart.
  const [own, queue] = IDEMPOTENCY_STORE_LOCATORS;
  const located = (names: readonly string[]): boolean => names.some((name) => reader.raw(name) !== undefined);
  const prefix = located(own) || !located(queue) ? 'IDEMPOTENCY_REDIS_' : 'REDIS_';
  const connection = redisConnection(reader, prefix, '(the idempotency store; or set REDIS_ADDRESS)');
  const leaseMs = reader.withDefault('IDEMPOTENCY_LEASE', duration, 30_000);
  const doneRetentionMs = reader.withDefault('IDEMPOTENCY_RETENTION', duration, 21 * 24 * 3_600_000);
  if (leaseMs < 1_000) reader.problem('IDEMPOTENCY_LEASE', 'must be at least 1s');
  if (doneRetentionMs < 15 * 24 * 3_600_000) {
    reader.problem('IDEMPOTENCY_RETENTION', 'must be at least 15 days (SQS keeps messages up to 14 days)');
  }
  if (connection === undefined) return undefined;
  return {
    connection,
    keyPrefix: reader.withDefault('IDEMPOTENCY_KEY_PREFIX', token, 'queueshift:idem:'),
    leaseMs,
    doneRetentionMs,
  };
}

export function parseConsumerEnv(
  env: Environment,
  context: ParseContext = defaultContext,
): ParseResult<ConsumerConfig> {
  const reader = new Reader(env, context);
  const type = queueType(reader, 'consumer');
  const redis =
    type === 'redis' || type === 'dual' ? redisStreams(reader, `when QUEUE_TYPE=${type}`) : undefined;
  const queue = type === 'sqs' || type === 'dual' ? sqs(reader, `when QUEUE_TYPE=${type}`) : undefined;
  const store = idempotency(reader);
  const count = reader.withDefault('WORKER_COUNT', wholeNumber(1, 1_000), 10);
  const batchSize = reader.withDefault('WORKER_BATCH_SIZE', wholeNumber(1, 100), 10);
  let prefetch = reader.withDefault('WORKER_PREFETCH_COUNT', wholeNumber(0, 10_000), 0);
  if (queue !== undefined && batchSize > 10)
    reader.problem('WORKER_BATCH_SIZE', 'must be at most 10 with SQS (its batch limit)');
  if (prefetch > count) {
    reader.warnings.push(
      `WORKER_PREFETCH_COUNT=${prefetch} is clamped to WORKER_COUNT=${count}: messages fetched beyond free handler slots ` +
        'would sit reserved (invisible in SQS, pending in Redis) while no handler can take them',
    );
    prefetch = count;
  }
  const workers = {
    count,
    batchSize,
    prefetch,
    handlerTimeoutMs: reader.withDefault('HANDLER_TIMEOUT', duration, 60_000),
    shutdownGraceMs: reader.withDefault('SHUTDOWN_GRACE', duration, 20_000),
    defaultRetryDelayMs: reader.withDefault('RETRY_DELAY', duration, 5_000),
  };
  return reader.result(
    () =>
      type &&
      store && {
        queueType: type,
        consumerName: reader.raw('POD_NAME') ?? reader.context.hostname(),
        ...(redis && { redis }),
        ...(queue && { sqs: queue }),
        idempotency: store,
        workers,
      },
  );
}
