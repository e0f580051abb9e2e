import type { HostPort, RedisEndpoint, SqsConfig } from '../../adapter/index.ts';
import type { QueueMigrationSpec } from './spec-schema.ts';

/** `host:port` or `[v6]:port`, as the CRD's format rule admits it. */
export function hostPort(text: string): HostPort {
  const colon = text.lastIndexOf(':');
  return { host: text.slice(0, colon).replace(/^\[|\]$/g, ''), port: Number(text.slice(colon + 1)) };
}

/** The adapter's endpoint for the spec's stream Redis (standalone or through Sentinel). */
export function redisEndpoint(redis: QueueMigrationSpec['redis']): RedisEndpoint {
  return redis.endpoint.mode === 'standalone'
    ? { kind: 'standalone', address: hostPort(redis.endpoint.address) }
    : {
        kind: 'sentinel',
        masterName: redis.endpoint.masterName,
        sentinels: redis.endpoint.sentinels.map(hostPort),
      };
}

/**
 * The adapter's SQS configuration for the spec's queue, for a reader outside the pipeline (the
 * operator's figures, the plugin's dead-letter commands): it never handles messages, so delivery
 * limits are the adapter's defaults and only the poll wait is its own.
 */
export function sqsConfig(sqs: QueueMigrationSpec['sqs'], waitTimeSeconds: number): SqsConfig {
  return {
    queueUrl: sqs.queueUrl,
    ...(sqs.deadLetterQueueUrl !== undefined && { deadLetterQueueUrl: sqs.deadLetterQueueUrl }),
    region: sqs.region,
    ...(sqs.endpoint !== undefined && { endpoint: sqs.endpoint }),
    waitTimeSeconds,
    visibilityTimeoutSeconds: 30,
    maxDeliveries: 5,
  };
}
