import type { Redis } from 'ioredis';
import type { RedisStreamsErrorContext } from './errors.ts';
import { consumersToDelete, trimFloor, type GroupPosition } from './maintenance-plan.ts';
import type { Clock, ScheduledTimer } from '../clock.ts';
import type { Logger } from './options.ts';
import { asNumber } from './reply-shape.ts';
import { sendCommand } from './send-command.ts';
import { parsePendingSummary } from './stream-replies.ts';
import { parseConsumersInfo, parseGroupsInfo } from './xinfo-replies.ts';

export interface MaintenanceOptions {
  client: Redis;
  stream: string;
  group: string;
  consumer: string;
  intervalMs: number;
  idleConsumerMs: number;
  logger: Logger;
  clock: Clock;
}

export interface MaintenanceReport {
  /** The XTRIM MINID bound used; absent when the stream has no group yet (nothing is trimmed then). */
  trimmedBelow?: string;
  trimmedEntries: number;
  deletedConsumers: string[];
}

/**
 * What consumers do for the stream in the background: trim what every group has acknowledged
 * (so the stream stays bounded without MAXLEN, which drops entries nobody read), and delete
 * consumers of the group that left nothing pending and have been idle long.
 *
 * Known race, accepted: a group created between reading the groups and XTRIM (from id 0) misses
 * what was trimmed; create groups before consumers start, as the operator does.
 */
export class StreamMaintenance {
  private readonly options: MaintenanceOptions;
  private readonly where: RedisStreamsErrorContext;
  private timer: ScheduledTimer | undefined;
  private started = false;
  private stopped = false;

  constructor(options: MaintenanceOptions) {
    this.options = options;
    this.where = { stream: options.stream, group: options.group, consumer: options.consumer };
  }

  /** Starts the periodic runs (once; later calls do nothing). */
  start(): void {
    if (this.started || this.stopped) return;
    this.started = true;
    this.schedule();
  }

  /**
   * No further runs. One in progress is not awaited: on a hung server it would hold up close(),
   * whose closing of the connection ends it.
   */
  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
  }

  async runOnce(): Promise<MaintenanceReport> {
    const positions = await this.groupPositions();
    const floor = trimFloor(positions);
    const trimmedEntries = floor === undefined ? 0 : await this.trimBelow(floor);
    // Without its group (not created yet, or deleted) there are no consumers of it to clean up.
    const deletedConsumers = positions.some((p) => p.group === this.options.group)
      ? await this.deleteIdleConsumers()
      : [];
    return { ...(floor !== undefined && { trimmedBelow: floor }), trimmedEntries, deletedConsumers };
  }

  private async trimBelow(floor: string): Promise<number> {
    const { client, stream } = this.options;
    const reply = await sendCommand(client, this.where, 'XTRIM', [stream, 'MINID', floor]);
    return asNumber(reply, stream, 'an XTRIM count');
  }

  private schedule(): void {
    this.timer = this.options.clock.schedule(this.options.intervalMs, () => {
      this.runOnce()
        .then(
          (report) => {
            this.options.logger.debug({ ...this.where, ...report }, 'stream maintenance done');
          },
          (error: unknown) => {
            if (this.stopped) return;
            this.options.logger.warn(
              { ...this.where, err: (error as Error).message },
              'stream maintenance failed; it runs again next period',
            );
          },
        )
        .finally(() => {
          if (!this.stopped) this.schedule();
        });
    });
  }

  /**
   * Every group's position. A group with nothing pending when listed skips XPENDING: whatever it
   * is given afterwards lies above its last-delivered-id, so its floor stays safe.
   */
  private async groupPositions(): Promise<GroupPosition[]> {
    const { client, stream } = this.options;
    const groups = parseGroupsInfo(
      await sendCommand(client, this.where, 'XINFO', ['GROUPS', stream]),
      stream,
    );
    return Promise.all(
      groups.map(async (g): Promise<GroupPosition> => {
        const position = { group: g.name, lastDeliveredId: g.lastDeliveredId };
        if (g.pending === 0) return position;
        const where = { ...this.where, group: g.name };
        const summary = parsePendingSummary(
          await sendCommand(client, where, 'XPENDING', [stream, g.name]),
          stream,
        );
        return summary.oldestId === undefined ? position : { ...position, oldestPendingId: summary.oldestId };
      }),
    );
  }

  private async deleteIdleConsumers(): Promise<string[]> {
    const { client, stream, group, consumer, idleConsumerMs, logger } = this.options;
    const consumers = parseConsumersInfo(
      await sendCommand(client, this.where, 'XINFO', ['CONSUMERS', stream, group]),
      stream,
    );
    const doomed = consumersToDelete(consumers, consumer, idleConsumerMs);
    for (const name of doomed) {
      const dropped = asNumber(
        await sendCommand(client, this.where, 'XGROUP', ['DELCONSUMER', stream, group, name]),
        stream,
        'a pending count',
      );
      if (dropped > 0) {
        // It read between XINFO and DELCONSUMER: its pending entries left the group with it.
        logger.error(
          { ...this.where, deletedConsumer: name, droppedPending: dropped },
          'an idle consumer took entries just before it was deleted: they are no longer claimable',
        );
      } else {
        logger.info(
          { ...this.where, deletedConsumer: name },
          'deleted an idle consumer with nothing pending',
        );
      }
    }
    return doomed;
  }
}
