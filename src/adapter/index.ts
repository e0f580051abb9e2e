/**
 * The queue adapter as the webhook, the worker and the operator use it. Anything not exported here
 * is internal to the adapter.
 */
export type * from './types.ts';
export type * from './config.ts';
export {
  ConfigError,
  DEFAULT_CLAIM_IDLE_MS,
  IDEMPOTENCY_STORE_LOCATORS,
  parseConsumerEnv,
  parseProducerEnv,
} from './env-config.ts';
// How the adapter reads a duration variable, for code that must interpret a service's settings.
export { duration } from './env-fields.ts';
export type { ConfigProblem, Environment, ParseContext, ParseResult } from './env-config.ts';

export {
  createBackend,
  createConsumer,
  createIdempotencyStore,
  createProducer,
  type AdapterDependencies,
  type BackendSettings,
} from './factory.ts';

export { pause, systemClock, type Clock, type ScheduledTimer } from './clock.ts';
export type { ConsumerPool } from './consumer/consumer-pool.ts';
export type { ConsumerEvents, SettledAs } from './consumer/consumer-events.ts';
export {
  ConsumerError,
  type ConsumerErrorCode,
  type ConsumerErrorContext,
} from './consumer/consumer-error.ts';
export type { Handler, HandlerContext } from './consumer/handler.ts';

export type { CommitTransaction, CommitCommand } from './idempotency/commit-transaction.ts';
export { IdempotencyError, type IdempotencyErrorCode } from './idempotency/idempotency-error.ts';
export type { IdempotencyStore, AcquireResult, Lease } from './idempotency/idempotency-store.ts';

export type { Producer, ProducerEvents, PublishResult } from './producer/producer.ts';
export { PublishError, type PublishErrorCode, type PublishRefusal } from './producer/publish-error.ts';

// The concrete back ends, for what only one of them offers (the operator's SQS preflight, say).
export { RedisStreamsBackend } from './redis-streams/redis-streams-backend.ts';
export { RedisStreamsError, type RedisStreamsErrorCode } from './redis-streams/errors.ts';
export type { DurabilityFacts, DurabilityReport, LossWindow } from './redis-streams/durability.ts';
export { SqsBackend } from './sqs/sqs-backend.ts';
export { readDeadLetterCopy, type DeadLetterCopy } from './sqs/message-codec.ts';
export { SqsError, type SqsErrorCode } from './sqs/sqs-error.ts';
