import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import {
  RedisStreamsBackend,
  systemClock,
  type Clock,
  type QueueBackend,
  type RedisConnectionConfig,
  type RedisStreamsConfig,
} from '../../adapter/index.ts';
import type { QueueMigrationSpec } from '../api/spec-schema.ts';
import type { RedisMoveTally } from '../stages/observations.ts';
import { withinBudget } from '../analysis/providers/metric-provider.ts';
import { leaveGroup, MoverDepartureError, type Departure, type MoverSeat } from './mover-departure.ts';
import { RedisToSqsMover } from './redis-to-sqs-mover.ts';

/**
 * The mover's consumer name in the group. Stable across operator restarts and leader changes (one
 * leader acts at a time): a new operator finds the entries the last one read and never
 * acknowledged under this name, and moves them first.
 */
export const MOVER_CONSUMER = 'queueshift-operator-mover';

/** BLOCK of the mover's reads of new entries: a pass that finds the stream empty ends soon. */
const MOVER_BLOCK_MS = 200;
/** The mover looks for entries idle past the claim time on every pass that reaches that point. */
const MOVER_CLAIM_INTERVAL_MS = 500;

/** The stream settings of the mover: the migration's stream and group, as the mover's consumer. */
export function moverStreamConfig(
  spec: QueueMigrationSpec,
  connection: RedisConnectionConfig,
  claimIdleMs: number,
): RedisStreamsConfig {
  return {
    connection,
    stream: spec.redis.stream,
    group: spec.redis.group,
    consumerName: MOVER_CONSUMER,
    blockMs: MOVER_BLOCK_MS,
    claimIdleMs,
    // Delivery limits are the workers' to enforce; the mover passes every entry on to SQS.
    maxDeliveries: Number.MAX_SAFE_INTEGER,
  };
}

/** Where a migration's mover reads and writes, and what identifies those settings. */
export interface MoverEndpoints {
  stream: RedisStreamsConfig;
  /** Changes whenever the stream settings (Secrets included) do; the mover is rebuilt then. */
  fingerprint: string;
  queue: QueueBackend;
  /** A plain connection to the stream's Redis, for deleting the mover's consumer once it is released. */
  commands: () => Redis;
}

export interface RedisMoversOptions {
  endpoints: (key: string, spec: QueueMigrationSpec, claimIdleMs: number) => MoverEndpoints;
  /** Budget of one SendMessage. Default 10_000. */
  sendTimeoutMs?: number;
  logger: Logger;
  /** Times the release's wait for Redis. Default: the system clock. */
  clock?: Clock;
}

const DEFAULT_SEND_TIMEOUT_MS = 10_000;
/** How long one pass may spend reading entries before it sends what it has. */
const READ_BUDGET_MS = 5_000;
/** A release waits this long for Redis to answer about the mover's consumer: a hung server never holds a worker. */
const DEPARTURE_BUDGET_MS = 5_000;

interface MoverEntry {
  fingerprint: string;
  stream: RedisStreamsBackend;
  mover: RedisToSqsMover;
  seat: MoverSeat;
  commands: () => Redis;
}

/**
 * One mover per migration, kept between passes (entries in hand stay in hand), with a running
 * count per migration that the stage machine takes in as an observation.
 */
export class RedisMovers {
  private readonly options: RedisMoversOptions;
  private readonly movers = new Map<string, MoverEntry>();
  private readonly tallies = new Map<string, RedisMoveTally>();

  constructor(options: RedisMoversOptions) {
    this.options = options;
  }

  /** Moves one batch of the migration's stream to SQS; failures land in the tally, not thrown. */
  async move(
    key: string,
    spec: QueueMigrationSpec,
    request: { maxEntries: number; claimIdleMs: number },
  ): Promise<void> {
    const tally = this.tallies.get(key) ?? { mover: randomUUID(), moved: 0 };
    let report;
    try {
      const mover = this.moverFor(key, spec, request.claimIdleMs);
      report = await mover.move(request.maxEntries, AbortSignal.timeout(READ_BUDGET_MS));
    } catch (error) {
      report = { moved: 0, error: error instanceof Error ? error.message : String(error) };
    }
    const { error: _previous, ...kept } = tally;
    this.tallies.set(key, {
      ...kept,
      moved: tally.moved + report.moved,
      ...(report.error !== undefined && { error: report.error }),
    });
    if (report.error !== undefined) {
      this.options.logger.warn({ migration: key, err: report.error }, 'moving Redis entries to SQS failed');
    }
  }

  tally(key: string): RedisMoveTally | undefined {
    return this.tallies.get(key);
  }

  private moverFor(key: string, spec: QueueMigrationSpec, claimIdleMs: number): RedisToSqsMover {
    const endpoints = this.options.endpoints(key, spec, claimIdleMs);
    const cached = this.movers.get(key);
    if (cached?.fingerprint === endpoints.fingerprint) return cached.mover;
    // Entries the old mover held stay pending under the same consumer name: the new one reads them first.
    if (cached !== undefined) void cached.stream.close();
    const stream = new RedisStreamsBackend(endpoints.stream, {
      logger: this.options.logger.child({ migration: key, role: 'mover' }),
      claimIntervalMs: MOVER_CLAIM_INTERVAL_MS,
    });
    const mover = new RedisToSqsMover({
      stream,
      queue: endpoints.queue,
      sendTimeoutMs: this.options.sendTimeoutMs ?? DEFAULT_SEND_TIMEOUT_MS,
    });
    const { stream: name, group, consumerName } = endpoints.stream;
    const seat = { stream: name, group, consumer: consumerName };
    this.movers.set(key, {
      fingerprint: endpoints.fingerprint,
      stream,
      mover,
      seat,
      commands: endpoints.commands,
    });
    return mover;
  }

  /**
   * Releases the migration's mover: closes its connections, then deletes its consumer from the
   * group unless entries are pending under it, so that XINFO CONSUMERS and the active-consumer
   * figures stop listing a consumer that will never read again. Never rejects: a consumer that
   * could not be deleted costs a log line and stays, harmless, with whatever it holds.
   */
  async forget(key: string): Promise<void> {
    const cached = this.movers.get(key);
    this.movers.delete(key);
    this.tallies.delete(key);
    if (cached === undefined) return;
    // Closed first: no read of the mover's can make an entry pending after the check.
    await cached.stream.close();
    const { logger } = this.options;
    const where = { migration: key, ...cached.seat };
    try {
      const departure = await withinBudget<Departure | Error>(
        leaveGroup(cached.commands(), cached.seat).catch((error: unknown) => error as Error),
        DEPARTURE_BUDGET_MS,
        this.options.clock ?? systemClock,
        () => new MoverDepartureError(cached.seat, `no answer within ${String(DEPARTURE_BUDGET_MS)} ms`),
      );
      if (departure instanceof Error) throw departure;
      if (!departure.left) {
        logger.warn(
          { ...where, pending: departure.pending },
          'kept the mover consumer in the group: entries are pending under it, and deleting it would drop them',
        );
      } else if (departure.dropped > 0) {
        logger.error(
          { ...where, droppedPending: departure.dropped },
          'the mover consumer took entries while it was being deleted: they are no longer claimable',
        );
      } else logger.info(where, 'deleted the mover consumer from the group');
    } catch (error) {
      logger.warn({ ...where, err: error }, 'could not delete the mover consumer from the group');
    }
  }

  async close(): Promise<void> {
    const all = [...this.movers.values()];
    this.movers.clear();
    await Promise.all(all.map(({ stream }) => stream.close()));
  }
}
