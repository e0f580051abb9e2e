/**
 * What the Redis Streams back end takes besides its configuration: the clock (time and timers),
 * the logger and the periods of its background work. Defaults live here, in one place, and impossible
 * combinations are refused before any connection opens.
 */
import { pino } from 'pino';
import type { RedisStreamsConfig } from '../config.ts';
import { systemClock, type Clock } from '../clock.ts';
import { RedisStreamsError } from './errors.ts';

/** pino's logger fits; so does any object with these methods. */
export interface Logger {
  debug(fields: object, message: string): void;
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

export interface RedisStreamsOptions {
  /**
   * Time and timers: entry ages in stats(), the claim schedule, the read watchdog, periodic
   * maintenance. Default the system clock.
   */
  clock?: Clock;
  /** Default: pino on stdout, named `queueshift-redis-streams`. */
  logger?: Logger;
  /**
   * How long a blocking read may outlive its BLOCK before the watchdog replaces the connection
   * (a socket can hang silently after a reconnect or a frozen server). Default 2_000.
   */
  watchdogGraceMs?: number;
  /** Least time between two XAUTOCLAIM passes of receive(). Default 5_000. */
  claimIntervalMs?: number;
  /** Period of trimming and consumer clean-up, which start with the first receive(). Default 30_000. */
  maintenanceIntervalMs?: number;
  /** A consumer of the group idle this long with nothing pending is deleted. Default 3_600_000 (1 h). */
  idleConsumerMs?: number;
  /**
   * A consumer counts as active in stats() if it read within this window (Redis 7.2+ `inactive`).
   * On 7.0, where idle resets only on a delivery, it counts if it was delivered an entry within the
   * window, or if no entry has waited undelivered that long. Default 30_000.
   */
  activeConsumerWindowMs?: number;
  /** ping() gives up after this long. Default 2_000. */
  pingTimeoutMs?: number;
  /** How long close() lets each connection quit cleanly before dropping it. Default 1_000. */
  closeTimeoutMs?: number;
}

export type ResolvedOptions = Required<RedisStreamsOptions>;

const DEFAULTS = {
  clock: systemClock,
  watchdogGraceMs: 2_000,
  claimIntervalMs: 5_000,
  maintenanceIntervalMs: 30_000,
  idleConsumerMs: 3_600_000,
  activeConsumerWindowMs: 30_000,
  pingTimeoutMs: 2_000,
  closeTimeoutMs: 1_000,
} as const;

const DURATIONS = [
  'watchdogGraceMs',
  'claimIntervalMs',
  'maintenanceIntervalMs',
  'idleConsumerMs',
  'activeConsumerWindowMs',
  'pingTimeoutMs',
  'closeTimeoutMs',
] as const;

/** Fills in defaults and refuses combinations that would misreport consumers or never claim. */
export function resolveOptions(config: RedisStreamsConfig, options: RedisStreamsOptions): ResolvedOptions {
  const resolved: ResolvedOptions = {
    ...DEFAULTS,
    ...options,
    logger: options.logger ?? pino({ name: 'queueshift-redis-streams' }),
  };
  const refuse = (message: string): never => {
    throw new RedisStreamsError('REDIS_STREAMS_INVALID_OPTIONS', message, {
      stream: config.stream,
      group: config.group,
      consumer: config.consumerName,
    });
  };
  for (const name of DURATIONS) {
    const value = resolved[name];
    if (!Number.isInteger(value) || value <= 0)
      refuse(`${name} must be a positive whole number of ms, got ${value}`);
  }
  for (const [name, value] of [
    ['blockMs', config.blockMs],
    ['claimIdleMs', config.claimIdleMs],
    ['maxDeliveries', config.maxDeliveries],
  ] as const) {
    if (!Number.isInteger(value) || value <= 0)
      refuse(`${name} must be a positive whole number, got ${value}`);
  }
  if (resolved.activeConsumerWindowMs <= config.blockMs + resolved.watchdogGraceMs) {
    refuse(
      `activeConsumerWindowMs (${resolved.activeConsumerWindowMs}) must exceed blockMs + watchdogGraceMs ` +
        `(${config.blockMs + resolved.watchdogGraceMs}): a consumer waiting in a read would count as inactive`,
    );
  }
  if (resolved.idleConsumerMs <= resolved.activeConsumerWindowMs) {
    refuse(
      `idleConsumerMs (${resolved.idleConsumerMs}) must exceed activeConsumerWindowMs ` +
        `(${resolved.activeConsumerWindowMs}): a consumer still counted as active would be deleted`,
    );
  }
  if (
    config.waitReplicas !== undefined &&
    (config.waitReplicas.replicas < 1 || config.waitReplicas.timeoutMs < 1)
  ) {
    refuse('waitReplicas needs at least 1 replica and a timeout of at least 1 ms');
  }
  return resolved;
}
