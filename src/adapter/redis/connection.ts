import fs from 'node:fs';
import { Redis, type RedisOptions } from 'ioredis';
import type { RedisConnectionConfig } from '../config.ts';

/**
 * ioredis options as this package passes them. `replyMapping` is left out: ioredis types it
 * `| undefined` in RedisOptions but not in its constructor, which exactOptionalPropertyTypes rejects.
 */
export type ClientOptions = Omit<RedisOptions, 'replyMapping'>;

export interface ConnectionPurpose {
  /** Shown in CLIENT LIST and in errors: `queueshift:<role>:<consumer>`. */
  connectionName: string;
  /** Extra ioredis options for this connection's job (timeouts, retry behaviour). */
  overrides?: ClientOptions;
}

/** A replica answers writes with READONLY after a failover; reconnecting finds the new primary. */
function reconnectOnReadonly(error: Error): 2 | false {
  return error.message.startsWith('READONLY') ? 2 : false;
}

function readPem(file: string | undefined, what: string): Buffer | undefined {
  if (file === undefined) return undefined;
  try {
    return fs.readFileSync(file);
  } catch (error) {
    throw new Error(`cannot read the Redis TLS ${what} ${file}: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

/** ioredis options for a configured Redis: standalone or Sentinel, ACL user, TLS from files. */
export function clientOptions(config: RedisConnectionConfig, purpose: ConnectionPurpose): ClientOptions {
  const tls = config.tls && {
    ca: config.tls.caPem ?? readPem(config.tls.caFile, 'CA file'),
    cert: config.tls.certPem ?? readPem(config.tls.certFile, 'certificate file'),
    key: config.tls.keyPem ?? readPem(config.tls.keyFile, 'key file'),
    // Certificate and host name are always verified; there is no switch to skip it.
    rejectUnauthorized: true,
  };
  const endpoint: ClientOptions =
    config.endpoint.kind === 'standalone'
      ? { host: config.endpoint.address.host, port: config.endpoint.address.port }
      : {
          sentinels: config.endpoint.sentinels.map(({ host, port }) => ({ host, port })),
          name: config.endpoint.masterName,
          role: 'master',
          // Watches sentinels' +switch-master so a failover is seen without waiting for an error.
          failoverDetector: true,
          enableTLSForSentinelMode: tls !== undefined,
        };
  return {
    ...endpoint,
    ...(config.username !== undefined && { username: config.username }),
    ...(config.password !== undefined && { password: config.password }),
    ...(tls && { tls }),
    connectionName: purpose.connectionName,
    reconnectOnError: reconnectOnReadonly,
    ...purpose.overrides,
  };
}

export function createRedisClient(config: RedisConnectionConfig, purpose: ConnectionPurpose): Redis {
  return new Redis(clientOptions(config, purpose));
}

/** Where a configuration points, for logs and errors; never includes credentials. */
export function describeRedis(config: RedisConnectionConfig): string {
  const where =
    config.endpoint.kind === 'standalone'
      ? `${config.endpoint.address.host}:${config.endpoint.address.port}`
      : `sentinel master ${config.endpoint.masterName} via ${config.endpoint.sentinels.map((s) => `${s.host}:${s.port}`).join(',')}`;
  return `${where}${config.tls ? ' (TLS)' : ''}${config.username !== undefined ? ` as ${config.username}` : ''}`;
}
