import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from 'pino';
import {
  createBackend,
  type BackendKind,
  type BackendSettings,
  type Known,
  type QueueBackend,
  type RedisStreamStats,
} from '../../adapter/index.ts';
import { hostPort, redisEndpoint, sqsConfig } from '../api/queue-endpoints.ts';
import type { QueueMigrationSpec } from '../api/spec-schema.ts';

/** Figures the stage machine's drains and the analysis wait on; unknown is never reported as 0. */
export interface QueueFigures {
  sqsDepth(key: string, spec: QueueMigrationSpec): Promise<Known<number>>;
  redisBacklog(key: string, spec: QueueMigrationSpec): Promise<Known<number>>;
  /** The adapter's figures of the stream and group; rejects when Redis cannot be read. */
  redisStats(key: string, spec: QueueMigrationSpec): Promise<RedisStreamStats>;
  /** A plain connection to the stream Redis, for what the stats do not carry (INFO memory). */
  redisClient(key: string, spec: QueueMigrationSpec): Redis;
  forget(key: string): Promise<void>;
  close(): Promise<void>;
}

function sqsSettings(spec: QueueMigrationSpec): BackendSettings {
  return { sqs: sqsConfig(spec.sqs, 0) };
}

function redisSettings(spec: QueueMigrationSpec): BackendSettings {
  const { redis } = spec;
  return {
    redis: {
      connection: {
        endpoint: redisEndpoint(redis),
        ...(redis.username !== undefined && { username: redis.username }),
      },
      stream: redis.stream,
      group: redis.group,
      // Only stats are read through it: the name never joins the group.
      consumerName: 'queueshift-operator',
      blockMs: 1_000,
      claimIdleMs: 60_000,
      maxDeliveries: 5,
    },
  };
}

const reason = (error: unknown): string => (error instanceof Error ? error.message : String(error));

const SECRETS_UNREAD = 'the Redis credentials are in Secrets, which the operator does not read yet';

/** ioredis options for the spec's endpoint: no password or TLS (those live in Secrets). */
function clientOptions(spec: QueueMigrationSpec): Omit<RedisOptions, 'replyMapping'> {
  const { redis } = spec;
  const endpoint =
    redis.endpoint.mode === 'standalone'
      ? hostPort(redis.endpoint.address)
      : { sentinels: redis.endpoint.sentinels.map(hostPort), name: redis.endpoint.masterName };
  return {
    ...endpoint,
    ...(redis.username !== undefined && { username: redis.username }),
    connectionName: 'queueshift:operator:analysis',
    // A read that cannot be sent fails at once; the provider bounds the rest with its time budget.
    maxRetriesPerRequest: 0,
  };
}

/**
 * Queue figures through the adapter's own back ends, one per migration and kind, rebuilt when the
 * spec's settings change. SQS credentials come from the operator pod's default AWS chain. Redis
 * connections that need a Secret (password, TLS files) are not opened: their figures read as
 * unknown (a drain waits rather than guess) and as a provider error to the analysis.
 */
export class AdapterQueueFigures implements QueueFigures {
  private readonly logger: Logger;
  private readonly backends = new Map<string, { settings: string; backend: QueueBackend }>();
  private readonly clients = new Map<string, { settings: string; client: Redis }>();

  constructor(logger: Logger) {
    this.logger = logger;
  }

  private backend(key: string, kind: BackendKind, settings: BackendSettings): QueueBackend {
    const id = `${kind} ${key}`;
    const text = JSON.stringify(settings);
    const cached = this.backends.get(id);
    if (cached?.settings === text) return cached.backend;
    if (cached !== undefined) void cached.backend.close();
    const backend = createBackend(kind, settings, { logger: this.logger.child({ migration: key }) });
    this.backends.set(id, { settings: text, backend });
    return backend;
  }

  async sqsDepth(key: string, spec: QueueMigrationSpec): Promise<Known<number>> {
    try {
      const stats = await this.backend(key, 'sqs', sqsSettings(spec)).stats();
      return stats.kind === 'sqs' ? { known: true, value: stats.depth } : { known: false, reason: 'not SQS' };
    } catch (error) {
      return { known: false, reason: `SQS ${spec.sqs.queueUrl}: ${reason(error)}` };
    }
  }

  async redisBacklog(key: string, spec: QueueMigrationSpec): Promise<Known<number>> {
    try {
      return (await this.redisStats(key, spec)).backlog;
    } catch (error) {
      return { known: false, reason: `stream ${spec.redis.stream}: ${reason(error)}` };
    }
  }

  async redisStats(key: string, spec: QueueMigrationSpec): Promise<RedisStreamStats> {
    if (spec.redis.passwordSecretRef !== undefined || spec.redis.tls !== undefined) {
      throw new Error(SECRETS_UNREAD);
    }
    const stats = await this.backend(key, 'redis', redisSettings(spec)).stats();
    if (stats.kind !== 'redis') throw new Error('the Redis back end answered SQS figures');
    return stats;
  }

  redisClient(key: string, spec: QueueMigrationSpec): Redis {
    const options = clientOptions(spec);
    const text = JSON.stringify(options);
    const cached = this.clients.get(key);
    if (cached?.settings === text) return cached.client;
    if (cached !== undefined) cached.client.disconnect();
    const client = new Redis(options);
    // Connection errors surface in the commands that fail; the 'error' event only needs a listener.
    client.on('error', (error: Error) => {
      this.logger.debug({ migration: key, err: error }, 'analysis Redis connection error');
    });
    this.clients.set(key, { settings: text, client });
    return client;
  }

  async forget(key: string): Promise<void> {
    this.clients.get(key)?.client.disconnect();
    this.clients.delete(key);
    const ids = [...this.backends.keys()].filter((id) => id.endsWith(` ${key}`));
    await Promise.all(
      ids.map(async (id) => {
        const cached = this.backends.get(id);
        this.backends.delete(id);
        await cached?.backend.close();
      }),
    );
  }

  async close(): Promise<void> {
    for (const { client } of this.clients.values()) client.disconnect();
    this.clients.clear();
    await Promise.all([...this.backends.values()].map(({ backend }) => backend.close()));
    this.backends.clear();
  }
}
