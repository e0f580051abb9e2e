import type { Logger } from 'pino';
import {
  createBackend,
  type BackendKind,
  type BackendSettings,
  type Known,
  type QueueBackend,
} from '../../adapter/index.ts';
import type { QueueMigrationSpec } from '../api/spec-schema.ts';

/** Figures the stage machine's drains wait on; unknown is never reported as 0. */
export interface QueueFigures {
  sqsDepth(key: string, spec: QueueMigrationSpec): Promise<Known<number>>;
  redisBacklog(key: string, spec: QueueMigrationSpec): Promise<Known<number>>;
  forget(key: string): Promise<void>;
  close(): Promise<void>;
}

function sqsSettings(spec: QueueMigrationSpec): BackendSettings {
  const { sqs } = spec;
  return {
    sqs: {
      queueUrl: sqs.queueUrl,
      ...(sqs.deadLetterQueueUrl !== undefined && { deadLetterQueueUrl: sqs.deadLetterQueueUrl }),
      region: sqs.region,
      ...(sqs.endpoint !== undefined && { endpoint: sqs.endpoint }),
      waitTimeSeconds: 0,
      visibilityTimeoutSeconds: 30,
      maxDeliveries: 5,
    },
  };
}

function redisSettings(spec: QueueMigrationSpec): BackendSettings {
  const { redis } = spec;
  const endpoint =
    redis.endpoint.mode === 'standalone'
      ? { kind: 'standalone' as const, address: hostPort(redis.endpoint.address) }
      : {
          kind: 'sentinel' as const,
          masterName: redis.endpoint.masterName,
          sentinels: redis.endpoint.sentinels.map(hostPort),
        };
  return {
    redis: {
      connection: { endpoint, ...(redis.username !== undefined && { username: redis.username }) },
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

function hostPort(text: string): { host: string; port: number } {
  const colon = text.lastIndexOf(':');
  return { host: text.slice(0, colon).replace(/^\[|\]$/g, ''), port: Number(text.slice(colon + 1)) };
}

const reason = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/**
 * Queue figures through the adapter's own back ends, one per migration and kind, rebuilt when the
 * spec's settings change. SQS credentials come from the operator pod's default AWS chain. Redis
 * connections that need a Secret (password, TLS files) come with the analysis providers: until
 * then their backlog reads as unknown, so a drain waits rather than guess.
 */
export class AdapterQueueFigures implements QueueFigures {
  private readonly logger: Logger;
  private readonly backends = new Map<string, { settings: string; backend: QueueBackend }>();

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
    if (spec.redis.passwordSecretRef !== undefined || spec.redis.tls !== undefined) {
      return {
        known: false,
        reason: 'the Redis credentials are in Secrets, which the analysis providers read',
      };
    }
    try {
      const stats = await this.backend(key, 'redis', redisSettings(spec)).stats();
      return stats.kind === 'redis' ? stats.backlog : { known: false, reason: 'not Redis' };
    } catch (error) {
      return { known: false, reason: `stream ${spec.redis.stream}: ${reason(error)}` };
    }
  }

  async forget(key: string): Promise<void> {
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
    await Promise.all([...this.backends.values()].map(({ backend }) => backend.close()));
    this.backends.clear();
  }
}
