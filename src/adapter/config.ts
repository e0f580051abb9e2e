/**
 * The adapter's typed configuration. Services build it from the environment (env-config.ts); the
 * operator builds it from a QueueMigration and its Secrets. Nothing in the adapter reads
 * `process.env`.
 */
import type { BackendKind } from './types.ts';

export type QueueType = BackendKind | 'dual';

export interface HostPort {
  host: string;
  port: number;
}

export interface RedisTlsConfig {
  /** PEM CA bundle; the system roots when absent. Verification is never skipped. */
  caFile?: string;
  /** Client certificate and key, for servers that require one (both or neither). */
  certFile?: string;
  keyFile?: string;
  /**
   * The same material as PEM text, for a caller that holds it in memory (the operator reads it
   * from a Secret and never writes it to disk); each takes the place of its file.
   */
  caPem?: string;
  certPem?: string;
  keyPem?: string;
}

export type RedisEndpoint =
  { kind: 'standalone'; address: HostPort } | { kind: 'sentinel'; masterName: string; sentinels: HostPort[] };

export interface RedisConnectionConfig {
  endpoint: RedisEndpoint;
  username?: string;
  /** Never logged. */
  password?: string;
  tls?: RedisTlsConfig;
}

export interface RedisStreamsConfig {
  connection: RedisConnectionConfig;
  stream: string;
  group: string;
  /** Stable per process (POD_NAME, else hostname), never per poll. */
  consumerName: string;
  /** A cap that raises a metric and an alert; producers never drop work for it. */
  maxLen?: number;
  /** BLOCK of each XREADGROUP; the watchdog replaces a read that outlives it plus a grace. */
  blockMs: number;
  /** Pending entries idle longer than this are claimed by other consumers (XAUTOCLAIM). */
  claimIdleMs: number;
  /** After this many deliveries (server-side count) an entry goes to `<stream>:dlq`. */
  maxDeliveries: number;
  /** Optional WAIT for replica acknowledgement before a publish resolves. */
  waitReplicas?: { replicas: number; timeoutMs: number };
}

export interface SqsConfig {
  queueUrl: string;
  deadLetterQueueUrl?: string;
  region: string;
  /** Emulators only; credentials always come from the SDK's default chain. */
  endpoint?: string;
  /** Long-poll wait of each ReceiveMessage (0–20). */
  waitTimeSeconds: number;
  /** Visibility granted per receive and per heartbeat. */
  visibilityTimeoutSeconds: number;
  /** After this many receives an explicit retry becomes dead (the redrive policy is the backstop). */
  maxDeliveries: number;
}

export interface ProducerConfig {
  primary: BackendKind;
  /** Set by the operator while both queues are live: used when the primary refuses. */
  fallback?: BackendKind;
  /** Budget of one publish, fallback included; well under GitHub's 10 s delivery timeout. */
  publishTimeoutMs: number;
  redis?: RedisStreamsConfig;
  sqs?: SqsConfig;
}

export interface IdempotencyConfig {
  connection: RedisConnectionConfig;
  keyPrefix: string;
  /** Lease time; renewed while the handler runs. */
  leaseMs: number;
  /** How long a done mark is kept: longer than SQS retention plus the stability window. */
  doneRetentionMs: number;
}

export interface WorkerPoolConfig {
  /** Concurrent handlers. */
  count: number;
  /** Messages asked for per fetch (at most 10 on SQS). */
  batchSize: number;
  /** Extra messages fetched ahead of free slots; clamped to the free slots. */
  prefetch: number;
  /** Time a handler may run before its delivery is released for another attempt. */
  handlerTimeoutMs: number;
  /** On shutdown, how long in-flight handlers may finish before the rest is left claimable. */
  shutdownGraceMs: number;
  /** Delay of a retry when a handler throws instead of returning an outcome. */
  defaultRetryDelayMs: number;
}

export interface ConsumerConfig {
  queueType: QueueType;
  /** Stable per process (POD_NAME, else hostname): the stream consumer and the lease owner. */
  consumerName: string;
  redis?: RedisStreamsConfig;
  sqs?: SqsConfig;
  idempotency: IdempotencyConfig;
  workers: WorkerPoolConfig;
}
