import fs from 'node:fs';
import path from 'node:path';
import { Redis, type RedisOptions } from 'ioredis';
import type { EnvContext } from './context.ts';
import type { EnvPaths } from './paths.ts';
import { freePort, LOOPBACK } from './ports.ts';
import { startDaemon, stopProcessGroup, type DaemonRecord } from './processes.ts';
import { waitForDaemon } from './readiness.ts';
import { readState, writeState, type RedisServer } from './state.ts';

export interface RedisDaemonOptions {
  /** Daemon name; `.queueshift/<name>/` holds its config and its `data/` folder. */
  name: string;
  port: number;
  /** Run as a sentinel (`redis-server <config> --sentinel`). Default false. */
  sentinel?: boolean;
  /** Serve TLS on `port` and no plain-text port at all. Default false. */
  tls?: boolean;
  /** Directives after the common ones (loopback bind, foreground, log to stdout, data dir). */
  directives: readonly string[];
  /** Says whether the server answers. Default: PING over plain TCP on `port`. */
  probe?: () => Promise<boolean>;
}

const SERVER_CONFIG = 'redis.conf';
const SENTINEL_CONFIG = 'sentinel.conf';

/**
 * Settings every Redis here shares: no eviction, so a stream is never dropped to make room (an
 * eviction policy can evict a whole stream), and no RDB snapshots. Append-only persistence is off
 * by default and opted into where a restart must keep data.
 */
export const NO_EVICTION_NO_SNAPSHOTS = ['maxmemory-policy noeviction', 'save ""'] as const;

/**
 * Connection options as callers here pass them. `replyMapping` stays out: ioredis types it
 * `| undefined` in RedisOptions but not in its constructor, which exactOptionalPropertyTypes rejects.
 */
export type RedisConnectionOptions = Omit<RedisOptions, 'replyMapping'>;

/**
 * One connection that never retries or queues: probes and setup checks must fail fast, and a
 * caller that wants resilience uses its own client. The connection is closed after `use`.
 */
export async function withRedis<T>(
  options: RedisConnectionOptions,
  use: (client: Redis) => Promise<T>,
): Promise<T> {
  const client = new Redis({
    host: LOOPBACK,
    connectTimeout: 1_000,
    ...options,
    lazyConnect: true,
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
  });
  // A refused handshake (WRONGPASS, NOAUTH, TLS alert) arrives as an 'error' event, while
  // connect() only rejects with "Connection is closed": report the event's reason instead.
  let reason: unknown;
  client.on('error', (error: unknown) => {
    reason = error;
  });
  try {
    await client.connect().catch((error: unknown) => {
      throw reason ?? error;
    });
    return await use(client);
  } finally {
    client.disconnect();
  }
}

/** Resolves once PING succeeds; rejects with the reason (refused, LOADING, NOAUTH, ...) otherwise. */
export async function answersPing(options: RedisConnectionOptions): Promise<true> {
  return withRedis(options, async (client) => {
    await client.ping();
    return true as const;
  });
}

function configText(options: RedisDaemonOptions, dataDir: string): string {
  const listen = options.tls ? ['port 0', `tls-port ${options.port}`] : [`port ${options.port}`];
  return (
    [
      `# Written by test/env for the daemon ${options.name}; regenerated on every environment start.`,
      `bind ${LOOPBACK}`,
      ...listen,
      // Sentinel and the daemon supervisor both need the process in the foreground.
      'daemonize no',
      'logfile ""',
      `dir ${dataDir}`,
      ...options.directives,
    ].join('\n') + '\n'
  );
}

function daemonArgs(configFile: string, sentinel: boolean): string[] {
  return sentinel ? [configFile, '--sentinel'] : [configFile];
}

/**
 * Writes a fresh config (and an empty data folder: a new environment starts from no data) and
 * starts the daemon; resolves once it answers. The config is also what `restartRedisServer` reuses.
 */
export async function startRedisDaemon(ctx: EnvContext, options: RedisDaemonOptions): Promise<RedisServer> {
  const dir = ctx.dir(options.name);
  const dataDir = path.join(dir, 'data');
  fs.rmSync(dataDir, { recursive: true, force: true });
  fs.mkdirSync(dataDir, { recursive: true });
  const configFile = path.join(dir, options.sentinel ? SENTINEL_CONFIG : SERVER_CONFIG);
  // Mode 0600: the TLS server's config carries its ACL user's password hash.
  fs.writeFileSync(configFile, configText(options, dataDir), { mode: 0o600 });
  const record = ctx.startDaemon({
    name: options.name,
    command: 'redis-server',
    args: daemonArgs(configFile, options.sentinel ?? false),
  });
  await waitForRedis(record, options.port, options.probe);
  return { host: LOOPBACK, port: options.port, daemon: options.name };
}

async function waitForRedis(
  record: DaemonRecord,
  port: number,
  probe: () => Promise<boolean> = () => answersPing({ port }),
): Promise<void> {
  await waitForDaemon(record, probe, {
    what: `${record.name} on ${LOOPBACK}:${port} to answer`,
    timeoutMs: 20_000,
  });
}

/**
 * Two standalone servers: `redis-streams`, the stream back end under migration, with append-only
 * persistence so that a restart keeps its data (fault tests restart it); and `redis-idempotency`,
 * kept apart so that faulting the stream Redis never blinds the checks that count deliveries.
 */
export async function startRedisServers(ctx: EnvContext): Promise<void> {
  const [streamsPort, idempotencyPort] = await Promise.all([freePort(), freePort()]);
  const [streams, idempotency] = await Promise.all([
    startRedisDaemon(ctx, {
      name: 'redis-streams',
      port: streamsPort,
      directives: [...NO_EVICTION_NO_SNAPSHOTS, 'appendonly yes', 'appendfsync everysec'],
    }),
    startRedisDaemon(ctx, {
      name: 'redis-idempotency',
      port: idempotencyPort,
      directives: NO_EVICTION_NO_SNAPSHOTS,
    }),
  ]);
  ctx.state.redis = { streams, idempotency };
  ctx.save();
  ctx.info(`redis: streams at ${LOOPBACK}:${streamsPort}, idempotency at ${LOOPBACK}:${idempotencyPort}`);
}

/** The plain-text port a redis-server config listens on (`port N`, not the TLS port). */
function configuredPort(configFile: string): number {
  const match = /^port (\d+)$/m.exec(fs.readFileSync(configFile, 'utf8'));
  const port = Number(match?.[1] ?? 0);
  if (port === 0)
    throw new Error(`${configFile} has no plain-text port; only plain redis-server daemons restart here`);
  return port;
}

/**
 * Restarts a redis-server daemon in place: SIGTERM (Redis flushes its append-only file on the way
 * out), then the same config on the same port, keeping its data folder. Works on a daemon that
 * was already killed. The state file is re-read just before the new pid goes in, because test
 * files in other workers may have updated it meanwhile. Resolves with the new pid once it answers.
 */
export async function restartRedisServer(paths: EnvPaths, name: string): Promise<number> {
  const before = readState(paths.stateFile);
  const oldRecord = before?.daemons.find((d) => d.name === name);
  if (!before || !oldRecord) throw new Error(`cannot restart ${name}: ${paths.stateFile} has no such daemon`);
  const configFile = path.join(paths.stateDir, name, SERVER_CONFIG);
  if (!fs.existsSync(configFile))
    throw new Error(`cannot restart ${name}: no redis-server config at ${configFile}`);
  const port = configuredPort(configFile);

  await stopProcessGroup(oldRecord.pid);
  const record = startDaemon(
    { name, command: 'redis-server', args: daemonArgs(configFile, false) },
    paths.logsDir,
    before.marker,
  );
  const state = readState(paths.stateFile) ?? before;
  state.daemons = state.daemons.map((d) => (d.name === name ? record : d));
  writeState(paths.stateFile, state);
  await waitForRedis(record, port);
  return record.pid;
}
