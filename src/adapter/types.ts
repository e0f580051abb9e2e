/**
 * The queue adapter's vocabulary. The webhook, the worker and the operator see queues only through
 * these interfaces; `redis-streams/` and `sqs/` implement `QueueBackend`, one contract suite
 * (test/integration/adapter/contract.test.ts) holds every implementation to the same behaviour.
 */

export type BackendKind = 'sqs' | 'redis';

/** What a producer publishes: one GitHub delivery, already serialised. */
export interface OutgoingMessage {
  /** `X-GitHub-Delivery`: the idempotency key. GitHub reuses it on manual redelivery. */
  deliveryId: string;
  /** The envelope as JSON text (delivery id, event, received-at, payload). */
  body: string;
  /** Small string metadata carried beside the body (event name, probe markers). */
  attributes?: Readonly<Record<string, string>>;
}

/** A message handed to the consumer. Everything needed to settle it later is in here. */
export interface ReceivedMessage extends OutgoingMessage {
  backend: BackendKind;
  /** Stream entry id, or SQS receipt handle: what settling the message needs. */
  receipt: string;
  /** Stable id of this copy in its back end (stream entry id / SQS MessageId), for logs. */
  messageId: string;
  /** Server-side delivery count, this delivery included (XPENDING times-delivered / ApproximateReceiveCount). */
  deliveryCount: number;
  /** When the back end accepted the message (ms since epoch). */
  enqueuedAt: number;
}

/**
 * What a handler decides. Nothing is acknowledged implicitly: a handler that throws is treated as
 * `retry` with the consumer's default delay, never as `ack`.
 */
export type Outcome =
  { kind: 'ack' } | { kind: 'retry'; delayMs: number; reason: string } | { kind: 'dead'; reason: string };

/** Per-message result of a batch acknowledgement: back ends acknowledge in batches and report each. */
export interface SettleFailure {
  message: ReceivedMessage;
  error: Error;
}

/**
 * One queue back end. Implementations hold their own connections, are safe for concurrent calls,
 * and never silently drop a message: a failure is thrown (or reported per message), never ignored.
 */
export interface QueueBackend {
  readonly kind: BackendKind;
  /** Resolves once the back end accepted the message; rejects on refusal or when `signal` aborts. */
  publish(message: OutgoingMessage, signal?: AbortSignal): Promise<{ messageId: string }>;
  /**
   * Up to `max` messages (never more: the caller reserved that many handler slots), waiting at
   * most the back end's poll time. Resolves with an empty list when `signal` aborts.
   */
  receive(max: number, signal: AbortSignal): Promise<ReceivedMessage[]>;
  /** Removes handled messages. Returns the messages that could not be acknowledged. */
  ack(messages: readonly ReceivedMessage[]): Promise<SettleFailure[]>;
  /**
   * Makes a message deliverable again after `delayMs` (the next delivery counts as an attempt).
   * `retryLater(m, 0)` gives a message back at once, without waiting out its reservation: shutdown
   * relies on it for messages that were fetched but never started.
   */
  retryLater(message: ReceivedMessage, delayMs: number): Promise<void>;
  /** Moves a message to the dead-letter queue with its reason, then removes it. */
  deadLetter(message: ReceivedMessage, reason: string): Promise<void>;
  /** Keeps in-flight messages reserved for this consumer (visibility / pending-idle heartbeat). */
  keepAlive(messages: readonly ReceivedMessage[]): Promise<void>;
  /** Throws when the back end does not answer. */
  ping(): Promise<void>;
  /** Figures for the operator's gates. */
  stats(): Promise<BackendStats>;
  close(): Promise<void>;
}

/** A count that may be unknown: unknown is never reported as 0. */
export type Known<T> = { known: true; value: T } | { known: false; reason: string };

export interface RedisStreamStats {
  kind: 'redis';
  stream: string;
  group: string;
  length: number;
  /** Entries never delivered to the group (XINFO GROUPS lag, cross-checked). */
  lag: Known<number>;
  pending: number;
  /** lag + pending; unknown when lag is. */
  backlog: Known<number>;
  oldestPendingAgeMs: number;
  oldestUndeliveredAgeMs: number;
  deadLetterLength: number;
  /** Ids XAUTOCLAIM reported as deleted: entries lost to trimming since this process started. */
  lostToTrimming: number;
  /**
   * Group consumers seen reading within the activity window (see activeConsumerWindowMs), idle ones
   * included when nothing has waited to be delivered for that long.
   */
  activeConsumers: string[];
  /** REDIS_MAX_LEN was exceeded (producers never drop work for it; this raises an alert). */
  overCap: boolean;
}

export interface SqsQueueStats {
  kind: 'sqs';
  queueUrl: string;
  visible: number;
  inFlight: number;
  delayed: number;
  /** visible + in flight + delayed. Approximate on real SQS (lags about a minute). */
  depth: number;
  deadLetterDepth: Known<number>;
}

export type BackendStats = RedisStreamStats | SqsQueueStats;
