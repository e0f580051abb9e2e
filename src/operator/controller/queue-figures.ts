import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from 'pino';
import {
  createBackend,
  createIdempotencyStore,
  RedisStreamsBackend,
  SqsBackend,
  type BackendKind,
  type BackendSettings,
  type IdempotencyConfig,
  type IdempotencyStore,
  type Known,
  type QueueBackend,
  type RedisConnectionConfig,
  type RedisStreamStats,
} from '../../adapter/index.ts';
import { hostPort, redisEndpoint, sqsConfig } from '../api/queue-endpoints.ts';
import type { QueueMigrationSpec } from '../api/spec-schema.ts';
import { SqsToStreamSweeper } from '../drain/sqs-to-stream-sweeper.ts';
import { moverStreamConfig, RedisMovers } from '../drain/redis-movers.ts';
import type { RedisMoveTally } from '../stages/observations.ts';
import { SecretReadError, type RedisSecretMaterial } from '../kube/redis-secrets.ts';

/** Figures the stage machine's drains and the analysis wait on; unknown is never reported as 0. */
export interface QueueFigures {
  sqsDepth(key: string, spec: QueueMigrationSpec): Promise<Known<number>>;
  redisBacklog(key: string, spec: QueueMigrationSpec): Promise<Known<number>>;
  /** The adapter's figures of the stream and group; rejects when Redis cannot be read. */
  redisStats(key: string, spec: QueueMigrationSpec): Promise<RedisStreamStats>;
  /** A plain connection to the stream Redis, for what the stats do not carry (INFO memory). */
  redisClient(key: string, spec: QueueMigrationSpec): Redis;
  /**
   * The Secrets of the migration's Redis as last read (by the gatherer, on every reconcile):
   * every Redis connection opened after this call uses them, and one opened with other material
   * is replaced. Unknown: each Redis call fails with the reason.
   */
  useRedisSecrets(key: string, secrets: Known<RedisSecretMaterial>): void;
  /**
   * Why no Redis connection of the migration can be opened now (its Secrets could not be read), or
   * undefined: callers that must not throw (metric providers) ask first.
   */
  redisUnavailable(key: string, spec: QueueMigrationSpec): string | undefined;
  /** The migration's stream back end, with its Secrets; throws when they could not be read. */
  redisBackend(key: string, spec: QueueMigrationSpec): RedisStreamsBackend;
  /** The migration's SQS back end; throws SQS_FIFO_QUEUE / SQS_INVALID_CONFIG before any request. */
  sqsBackend(key: string, spec: QueueMigrationSpec): SqsBackend;
  /**
   * The consumers' idempotency store (probes read done marks in it), one per migration, replaced
   * when its settings change.
   */
  idempotencyStore(key: string, settings: IdempotencyConfig): IdempotencyStore;
  /** Sweeps the migration's SQS queue and its DLQ into its stream; rebuilt when their settings change. */
  sqsSweeper(key: string, spec: QueueMigrationSpec): SqsToStreamSweeper;
  /** A rollback drain's move of one batch of stream entries to SQS (drain/redis-to-sqs-mover.ts). */
  moveRedisToSqs(
    key: string,
    spec: QueueMigrationSpec,
    request: { maxEntries: number; claimIdleMs: number },
  ): Promise<void>;
  /** What this process's mover of the migration moved so far; undefined before its first move. */
  redisMoves(key: string): RedisMoveTally | undefined;
  forget(key: string): Promise<void>;
  /**
   * Closes the connections of every migration, as forget() closes one's, but leaves the mover's
   * consumer in the group, for whichever replica leads next; figures asked for afterwards connect again.
   */
  close(): Promise<void>;
}

function sqsSettings(spec: QueueMigrationSpec): BackendSettings {
  return { sqs: sqsConfig(spec.sqs, 0) };
}

/** Redis settings of a spec and the Secret material it references, and what identifies them. */
interface RedisAccess {
  connection: RedisConnectionConfig;
  /** The settings without secret values (Secrets stand in by resourceVersion): a cache key. */
  fingerprint: string;
}

const NOT_READ: Known<RedisSecretMaterial> = {
  known: false,
  reason: 'the Secrets of spec.redis are not read yet',
};

function redisAccess(
  spec: QueueMigrationSpec,
  secrets: Known<RedisSecretMaterial>,
): RedisAccess | SecretReadError {
  const { redis } = spec;
  const referenced = redis.passwordSecretRef !== undefined || redis.tls !== undefined;
  if (referenced && !secrets.known) return new SecretReadError('SECRETS_UNREAD', secrets.reason);
  const material = referenced && secrets.known ? secrets.value : undefined;
  const connection: RedisConnectionConfig = {
    endpoint: redisEndpoint(redis),
    ...(redis.username !== undefined && { username: redis.username }),
    ...(material?.password !== undefined && { password: material.password }),
    // TLS is on whenever the spec asks for it, even with a CA-less Secret (system roots).
    ...(redis.tls !== undefined && { tls: { ...material?.tls } }),
  };
  const fingerprint = JSON.stringify([
    redisEndpoint(redis),
    redis.username ?? null,
    redis.tls !== undefined,
    material?.version ?? '',
  ]);
  return { connection, fingerprint };
}

function redisSettings(spec: QueueMigrationSpec, connection: RedisConnectionConfig): BackendSettings {
  const { redis } = spec;
  return {
    redis: {
      connection,
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

/** ioredis options for the spec's endpoint, with the password and TLS material from its Secrets. */
function clientOptions(
  spec: QueueMigrationSpec,
  connection: RedisConnectionConfig,
): Omit<RedisOptions, 'replyMapping'> {
  const { redis } = spec;
  const tls = connection.tls && {
    ca: connection.tls.caPem,
    cert: connection.tls.certPem,
    key: connection.tls.keyPem,
    rejectUnauthorized: true,
  };
  const endpoint =
    redis.endpoint.mode === 'standalone'
      ? hostPort(redis.endpoint.address)
      : {
          sentinels: redis.endpoint.sentinels.map(hostPort),
          name: redis.endpoint.masterName,
          enableTLSForSentinelMode: tls !== undefined,
        };
  return {
    ...endpoint,
    ...(connection.username !== undefined && { username: connection.username }),
    ...(connection.password !== undefined && { password: connection.password }),
    ...(tls && { tls }),
    connectionName: 'queueshift:operator:analysis',
    // A read that cannot be sent fails at once; the provider bounds the rest with its time budget.
    maxRetriesPerRequest: 0,
  };
}

/**
 * Queue figures through the adapter's own back ends, one per migration and kind, rebuilt when the
 * spec's settings or the Secrets they reference change. SQS credentials come from the operator
 * pod's default AWS chain; Redis passwords and TLS material from the Secrets the gatherer read
 * (in memory only). While those cannot be read, Redis figures read as unknown (a drain waits
 * rather than guess) and as a provider error to the analysis.
 */
export class AdapterQueueFigures implements QueueFigures {
  private readonly logger: Logger;
  private readonly backends = new Map<string, { settings: string; backend: QueueBackend }>();
  private readonly clients = new Map<string, { settings: string; client: Redis }>();
  private readonly secrets = new Map<string, Known<RedisSecretMaterial>>();
  private readonly stores = new Map<string, { settings: string; store: IdempotencyStore }>();
  private readonly sweepers = new Map<string, { settings: string; sweeper: SqsToStreamSweeper }>();

  private readonly movers: RedisMovers;

  constructor(logger: Logger) {
    this.logger = logger;
    this.movers = new RedisMovers({
      endpoints: (key, spec, claimIdleMs) => {
        const access = this.redisAccess(key, spec);
        return {
          stream: moverStreamConfig(spec, access.connection, claimIdleMs),
          fingerprint: JSON.stringify([access.fingerprint, claimIdleMs]),
          queue: this.sqsBackend(key, spec),
          // Asked only at release, before forget() closes the clients: at most one connection more, closed with them.
          commands: () => this.redisClient(key, spec),
        };
      },
      logger,
    });
  }

  private backend(
    key: string,
    kind: BackendKind,
    settings: BackendSettings,
    text = JSON.stringify(settings),
  ): QueueBackend {
    const id = `${kind} ${key}`;
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
    return this.redisBackend(key, spec).stats();
  }

  private redisAccess(key: string, spec: QueueMigrationSpec): RedisAccess {
    const access = redisAccess(spec, this.secrets.get(key) ?? NOT_READ);
    if (access instanceof SecretReadError) throw access;
    return access;
  }

  redisUnavailable(key: string, spec: QueueMigrationSpec): string | undefined {
    const access = redisAccess(spec, this.secrets.get(key) ?? NOT_READ);
    return access instanceof SecretReadError ? access.message : undefined;
  }

  useRedisSecrets(key: string, secrets: Known<RedisSecretMaterial>): void {
    this.secrets.set(key, secrets);
  }

  redisBackend(key: string, spec: QueueMigrationSpec): RedisStreamsBackend {
    const access = this.redisAccess(key, spec);
    const settings = redisSettings(spec, access.connection);
    const { connection: _secret, ...rest } = settings.redis ?? {};
    const backend = this.backend(key, 'redis', settings, JSON.stringify([access.fingerprint, rest]));
    if (!(backend instanceof RedisStreamsBackend)) throw new Error('the adapter built no Redis back end');
    return backend;
  }

  sqsBackend(key: string, spec: QueueMigrationSpec): SqsBackend {
    const backend = this.backend(key, 'sqs', sqsSettings(spec));
    if (!(backend instanceof SqsBackend)) throw new Error('the adapter built no SQS back end');
    return backend;
  }

  redisClient(key: string, spec: QueueMigrationSpec): Redis {
    const access = this.redisAccess(key, spec);
    const options = clientOptions(spec, access.connection);
    const text = access.fingerprint;
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

  idempotencyStore(key: string, settings: IdempotencyConfig): IdempotencyStore {
    const text = JSON.stringify(settings);
    const cached = this.stores.get(key);
    if (cached?.settings === text) return cached.store;
    if (cached !== undefined) void cached.store.close().catch(() => undefined);
    // The owner names lease tokens; the operator only reads done marks and never takes a lease.
    const store = createIdempotencyStore(settings, 'queueshift-operator', {
      logger: this.logger.child({ migration: key }),
    });
    this.stores.set(key, { settings: text, store });
    return store;
  }

  sqsSweeper(key: string, spec: QueueMigrationSpec): SqsToStreamSweeper {
    const text = JSON.stringify([spec.sqs, spec.redis]);
    const cached = this.sweepers.get(key);
    if (cached?.settings === text) return cached.sweeper;
    if (cached !== undefined) void cached.sweeper.close();
    const sweeper = new SqsToStreamSweeper({
      // A short long-poll: real SQS's zero-wait receive samples a few servers and may miss messages.
      sqs: sqsConfig(spec.sqs, 1),
      streamName: spec.redis.stream,
      stream: () => this.redisBackend(key, spec),
      logger: this.logger.child({ migration: key }),
    });
    this.sweepers.set(key, { settings: text, sweeper });
    return sweeper;
  }

  moveRedisToSqs(
    key: string,
    spec: QueueMigrationSpec,
    request: { maxEntries: number; claimIdleMs: number },
  ): Promise<void> {
    return this.movers.move(key, spec, request);
  }

  redisMoves(key: string): RedisMoveTally | undefined {
    return this.movers.tally(key);
  }

  async forget(key: string): Promise<void> {
    await this.movers.forget(key);
    const sweeper = this.sweepers.get(key)?.sweeper;
    this.sweepers.delete(key);
    await sweeper?.close();
    const store = this.stores.get(key)?.store;
    this.stores.delete(key);
    void store?.close().catch(() => undefined);
    this.secrets.delete(key);
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
    await this.movers.close();
    await Promise.all([...this.sweepers.values()].map(({ sweeper }) => sweeper.close()));
    this.sweepers.clear();
    await Promise.all([...this.stores.values()].map(({ store }) => store.close().catch(() => undefined)));
    this.stores.clear();
    for (const { client } of this.clients.values()) client.disconnect();
    this.clients.clear();
    this.secrets.clear();
    await Promise.all([...this.backends.values()].map(({ backend }) => backend.close()));
    this.backends.clear();
  }
}
