import type { Redis } from 'ioredis';
import type { RedisStreamsConfig } from '../config.ts';
import { createRedisClient, describeRedis } from '../redis/connection.ts';
import type {
  OutgoingMessage,
  QueueBackend,
  ReceivedMessage,
  RedisStreamStats,
  SettleFailure,
} from '../types.ts';
import { BlockingReader } from './blocking-reader.ts';
import { withDeadline } from './deadline.ts';
import type { DurabilityReport } from './durability.ts';
import { deadLetterFields, decodeEntry, encodeEntry, type DeadLetterNote } from './entry-codec.ts';
import { commandError, RedisStreamsError, type RedisStreamsErrorContext } from './errors.ts';
import { resolveOptions, type RedisStreamsOptions, type ResolvedOptions } from './options.ts';
import { PendingRecovery, type Delivery } from './pending-recovery.ts';
import { readDurability } from './read-durability.ts';
import { sendCommand } from './send-command.ts';
import { idTimestampMs } from './stream-id.ts';
import { StreamAppender } from './stream-appender.ts';
import { StreamMaintenance, type MaintenanceReport } from './stream-maintenance.ts';
import { parseClaimedIds, parseReadGroupReply } from './stream-replies.ts';
import { readStreamStats } from './stream-stats.ts';
import { parseGroupsInfo } from './xinfo-replies.ts';

/**
 * The queue back end on a Redis stream with one consumer group (DESIGN.md §1, Redis Streams rules).
 *
 * Connections, each opened on first use: one for commands, one for appends (XADD, and the WAIT
 * that must follow it on the same connection without holding up acknowledgements), and one
 * dedicated to blocking reads, watched by a watchdog. Stream and dead-letter stream are separate
 * keys and no command touches both, so it works on Redis Cluster; no scripts are used, so an ACL
 * user without EVAL suffices.
 */
export class RedisStreamsBackend implements QueueBackend {
  readonly kind = 'redis' as const;
  /** `<stream>:dlq`: dead-lettered entries with their reason. */
  readonly deadLetterStream: string;
  private readonly config: RedisStreamsConfig;
  private readonly options: ResolvedOptions;
  private readonly where: RedisStreamsErrorContext;
  private readonly commands: Redis;
  private readonly appendConnection: Redis;
  private readonly appender: StreamAppender;
  private readonly reader: BlockingReader;
  private readonly recovery: PendingRecovery;
  private readonly maintenance: StreamMaintenance;
  /** Ids handed out and not yet settled: never handed out twice, never claimed from this process. */
  private readonly inFlight = new Set<string>();
  /** receive() calls run one after another: they share the reading connection and the cursors. */
  private receiving: Promise<unknown> = Promise.resolve();
  private groupReady: Promise<void> | undefined;
  private closing: Promise<void> | undefined;

  constructor(config: RedisStreamsConfig, options: RedisStreamsOptions = {}) {
    this.config = config;
    this.options = resolveOptions(config, options);
    this.deadLetterStream = `${config.stream}:dlq`;
    this.where = { stream: config.stream, group: config.group, consumer: config.consumerName };
    this.commands = this.connect('stream-commands');
    this.appendConnection = this.connect('stream-appends');
    this.appender = new StreamAppender({
      client: this.appendConnection,
      where: this.where,
      waitReplicas: config.waitReplicas,
    });
    this.reader = new BlockingReader({
      connect: () => this.connect('stream-reads'),
      deadlineMs: config.blockMs + this.options.watchdogGraceMs,
      clock: this.options.clock,
      onConnectionLost: (reason) => {
        this.options.logger.warn({ ...this.where, reason }, 'reading connection replaced or lost');
        this.recovery.connectionLost();
      },
    });
    const common = {
      client: this.commands,
      stream: config.stream,
      group: config.group,
      consumer: config.consumerName,
      logger: this.options.logger,
    };
    this.recovery = new PendingRecovery({
      ...common,
      claimIdleMs: config.claimIdleMs,
      claimIntervalMs: this.options.claimIntervalMs,
      clock: this.options.clock,
    });
    this.maintenance = new StreamMaintenance({
      ...common,
      intervalMs: this.options.maintenanceIntervalMs,
      idleConsumerMs: this.options.idleConsumerMs,
      clock: this.options.clock,
    });
  }

  /**
   * Creates the group from id 0 (so entries published before it exists are delivered), and the
   * stream. Over maxmemory Redis answers OOM before it looks for the group, so an OOM is an error
   * only when XINFO GROUPS (still served then) does not list the group.
   */
  async ensureGroup(): Promise<void> {
    this.assertOpen();
    const { stream, group } = this.config;
    try {
      await this.commands.call('XGROUP', 'CREATE', stream, group, '0', 'MKSTREAM');
      this.options.logger.info(this.where, 'created the consumer group');
    } catch (error) {
      if (error instanceof Error && error.message.startsWith('BUSYGROUP')) return;
      if (error instanceof Error && error.message.startsWith('OOM') && (await this.groupExists())) return;
      throw commandError('XGROUP CREATE', this.where, error);
    }
  }

  /** False when the stream is missing or cannot be read: the caller reports its own error then. */
  async groupExists(): Promise<boolean> {
    const { stream, group } = this.config;
    const reply = await this.commands.call('XINFO', 'GROUPS', stream).catch(() => []);
    return parseGroupsInfo(reply, stream).some((info) => info.name === group);
  }

  /**
   * Resolves once the stream has the entry (and, when configured, enough replicas acknowledged it:
   * see StreamAppender). REDIS_MAX_LEN never trims here; it only raises `overCap` in stats().
   */
  async publish(message: OutgoingMessage, signal?: AbortSignal): Promise<{ messageId: string }> {
    this.assertOpen();
    const messageId = await this.appender.append(this.config.stream, encodeEntry(message), signal);
    return { messageId };
  }

  /**
   * Up to `max` entries: this consumer's own pending entries first (after a start or a lost read
   * connection), then abandoned entries of others (XAUTOCLAIM), else new ones (blocking read).
   * Malformed entries never reach the caller: they go to the DLQ. Delivery limits are the consumer
   * pool's to enforce, after it checked the done mark (a delivery already done is acknowledged).
   * An abort ends a blocking read by replacing its connection.
   */
  async receive(max: number, signal: AbortSignal): Promise<ReceivedMessage[]> {
    this.assertOpen();
    const turn = this.receiving.then(() => this.receiveTurn(max, signal));
    this.receiving = turn.catch(() => undefined);
    return turn;
  }

  /** XACK in one call. A failure of the call fails every message; ids already acknowledged count as done. */
  async ack(messages: readonly ReceivedMessage[]): Promise<SettleFailure[]> {
    if (messages.length === 0) return [];
    const ids = messages.map((m) => m.receipt);
    try {
      this.assertOpen();
      await sendCommand(this.commands, { ...this.where, ids }, 'XACK', [
        this.config.stream,
        this.config.group,
        ...ids,
      ]);
    } catch (error) {
      return messages.map((message) => ({ message, error: error as Error }));
    }
    for (const id of ids) this.inFlight.delete(id);
    return [];
  }

  /**
   * Leaves the entry pending and sets its idle time to `claimIdleMs - delayMs`, so that XAUTOCLAIM
   * (which takes entries idle for claimIdleMs) hands it out again once `delayMs` has passed, to this
   * or another consumer, as a new delivery. The delay is capped at claimIdleMs (the server does not
   * accept a future delivery time), and the redelivery waits for the next claim pass (at most
   * claimIntervalMs later). After a restart of this consumer, its parked entries come back at once
   * with its own pending entries.
   */
  async retryLater(message: ReceivedMessage, delayMs: number): Promise<void> {
    this.assertOpen();
    const idleMs = Math.max(0, this.config.claimIdleMs - Math.max(0, delayMs));
    await this.claimForSelf([message.receipt], ['IDLE', idleMs]);
    this.inFlight.delete(message.receipt);
  }

  /** Copies the entry to `<stream>:dlq` with its reason, then acknowledges it: two commands, two keys. */
  async deadLetter(message: ReceivedMessage, reason: string): Promise<void> {
    this.assertOpen();
    await this.moveToDeadLetter(message.receipt, encodeEntry(message), message.deliveryCount, reason);
    this.inFlight.delete(message.receipt);
  }

  /**
   * Adds a dead letter that comes from elsewhere (the operator sweeping an SQS dead-letter queue)
   * to `<stream>:dlq`, laid out like the entries this back end dead-letters, so that every reader
   * of the dead-letter stream shows it with its reason. Never touches the live stream.
   */
  async addDeadLetter(
    message: OutgoingMessage,
    note: Pick<DeadLetterNote, 'reason' | 'originalId' | 'deliveryCount'>,
    signal?: AbortSignal,
  ): Promise<{ messageId: string }> {
    this.assertOpen();
    const { group, consumerName } = this.config;
    const fields = deadLetterFields(encodeEntry(message), { ...note, group, consumer: consumerName });
    return { messageId: await this.appender.append(this.deadLetterStream, fields, signal) };
  }

  /**
   * `XCLAIM … 0 <ids> JUSTID` to this consumer: resets the idle time without counting a delivery.
   * Min-idle 0 also takes back an entry another consumer claimed after this one stalled past the
   * claim time; harmless for delivery, since an acknowledgement by either removes it from the group.
   */
  async keepAlive(messages: readonly ReceivedMessage[]): Promise<void> {
    if (messages.length === 0) return;
    this.assertOpen();
    await this.claimForSelf(
      messages.map((m) => m.receipt),
      [],
    );
  }

  async ping(): Promise<void> {
    this.assertOpen();
    const answer = await withDeadline(
      this.commands.ping(),
      this.options.pingTimeoutMs,
      this.options.clock,
    ).catch((error: unknown) => {
      throw commandError('PING', this.where, error);
    });
    if (!answer.settled) {
      throw new RedisStreamsError(
        'REDIS_STREAMS_PING_TIMEOUT',
        `no answer from ${describeRedis(this.config.connection)} within ${this.options.pingTimeoutMs} ms`,
        this.where,
      );
    }
  }

  async stats(): Promise<RedisStreamStats> {
    this.assertOpen();
    return readStreamStats(this.commands, {
      stream: this.config.stream,
      group: this.config.group,
      deadLetterKey: this.deadLetterStream,
      maxLen: this.config.maxLen,
      now: this.options.clock.now(),
      activeConsumerWindowMs: this.options.activeConsumerWindowMs,
      lostToTrimming: this.recovery.lostToTrimming,
    });
  }

  /**
   * The write-loss window of this setting (DESIGN.md §1): replication (connected replicas, and the
   * WAIT every publish makes) and persistence (AOF and its fsync policy, RDB snapshots), from INFO
   * and CONFIG GET. What the server will not tell (ACLs often deny CONFIG) is reported as unknown,
   * never assumed safe.
   */
  async durability(): Promise<DurabilityReport> {
    this.assertOpen();
    return readDurability({
      client: this.commands,
      where: this.where,
      wait: this.config.waitReplicas,
      now: this.options.clock.now(),
    });
  }

  /** One round of trimming and idle-consumer clean-up, as the periodic timer runs it. */
  maintain(): Promise<MaintenanceReport> {
    this.assertOpen();
    return this.maintenance.runOnce();
  }

  /** Stops the timers and closes every connection; later calls return the same promise. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    this.maintenance.stop();
    this.reader.close();
    await Promise.all([this.quit(this.commands), this.quit(this.appendConnection)]);
  }

  private async quit(client: Redis): Promise<void> {
    if (client.status !== 'wait' && client.status !== 'end') {
      await withDeadline(client.quit(), this.options.closeTimeoutMs, this.options.clock).catch(
        () => undefined,
      );
    }
    client.disconnect();
  }

  private async receiveTurn(max: number, signal: AbortSignal): Promise<ReceivedMessage[]> {
    if (signal.aborted || this.closing || max < 1) return [];
    await (this.groupReady ??= this.ensureGroup().catch((error: unknown) => {
      this.groupReady = undefined;
      throw error;
    }));
    this.maintenance.start();
    const redelivered = await this.recovery.next(max, this.inFlight);
    if (redelivered.length > 0) return this.admit(redelivered);
    return this.admit(await this.readNew(max, signal));
  }

  private async readNew(max: number, signal: AbortSignal): Promise<Delivery[]> {
    const { stream, group, consumerName, blockMs } = this.config;
    const args = ['GROUP', group, consumerName, 'COUNT', max, 'BLOCK', blockMs, 'STREAMS', stream, '>'];
    const outcome = await this.reader.read('XREADGROUP', args, signal).catch((error: unknown) => {
      throw commandError('XREADGROUP', this.where, error);
    });
    if (outcome.kind === 'interrupted') return [];
    const entries = parseReadGroupReply(outcome.reply, stream);
    const last = entries.at(-1);
    if (last) this.recovery.noteNewEntries(last.id);
    // A first delivery; only a pending entry (never one read with `>`) can lack its fields.
    return entries.map((e) => ({ id: e.id, fields: e.fields ?? [], deliveryCount: 1 }));
  }

  /** Turns entries into messages; malformed ones go to the DLQ instead. */
  private async admit(entries: readonly Delivery[]): Promise<ReceivedMessage[]> {
    const messages: ReceivedMessage[] = [];
    for (const entry of entries) {
      const decoded = decodeEntry(entry.fields);
      if (!decoded.ok) {
        await this.refuse(entry, `malformed entry: ${decoded.problem}`);
        continue;
      }
      this.inFlight.add(entry.id);
      messages.push({
        ...decoded.message,
        backend: 'redis',
        receipt: entry.id,
        messageId: entry.id,
        deliveryCount: entry.deliveryCount,
        enqueuedAt: idTimestampMs(entry.id),
      });
    }
    return messages;
  }

  /** A failed move leaves the entry pending: it comes back through a later claim and is refused again. */
  private async refuse(entry: Delivery, reason: string): Promise<void> {
    try {
      await this.moveToDeadLetter(entry.id, entry.fields, entry.deliveryCount, reason);
      this.options.logger.warn(
        { ...this.where, ids: [entry.id], reason },
        'moved an entry to the dead-letter stream',
      );
    } catch (error) {
      this.options.logger.error(
        { ...this.where, ids: [entry.id], reason, err: (error as Error).message },
        'could not move an entry to the dead-letter stream; it stays pending',
      );
    }
  }

  private async moveToDeadLetter(
    id: string,
    fields: readonly string[],
    deliveryCount: number,
    reason: string,
  ): Promise<void> {
    const { stream, group, consumerName } = this.config;
    await this.appender.append(
      this.deadLetterStream,
      deadLetterFields(fields, { reason, originalId: id, deliveryCount, group, consumer: consumerName }),
    );
    await sendCommand(this.commands, { ...this.where, ids: [id] }, 'XACK', [stream, group, id]);
  }

  /** XCLAIM to this consumer with JUSTID (no delivery counted); reports ids that were no longer pending. */
  private async claimForSelf(ids: readonly string[], extra: readonly (string | number)[]): Promise<void> {
    const { stream, group, consumerName } = this.config;
    const reply = await sendCommand(this.commands, { ...this.where, ids }, 'XCLAIM', [
      stream,
      group,
      consumerName,
      0,
      ...ids,
      ...extra,
      'JUSTID',
    ]);
    const claimed = new Set(parseClaimedIds(reply, stream));
    const gone = ids.filter((id) => !claimed.has(id));
    if (gone.length > 0) {
      this.options.logger.warn(
        { ...this.where, ids: gone },
        'entries in hand are no longer pending: acknowledged elsewhere, or deleted from the stream',
      );
    }
  }

  private connect(role: string): Redis {
    const client = createRedisClient(this.config.connection, {
      connectionName: `queueshift:${role}:${this.config.consumerName}`,
      overrides: { lazyConnect: true },
    });
    client.on('error', (error: Error) => {
      this.options.logger.warn(
        { ...this.where, role, redis: describeRedis(this.config.connection), err: error.message },
        'redis connection error',
      );
    });
    return client;
  }

  private assertOpen(): void {
    if (this.closing)
      throw new RedisStreamsError('REDIS_STREAMS_CLOSED', 'the back end was closed', this.where);
  }
}
