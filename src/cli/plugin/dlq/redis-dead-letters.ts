import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { RedisStreamsBackend, type RedisStreamsConfig } from '../../../adapter/index.ts';
import { createRedisClient, describeRedis } from '../../../adapter/redis/connection.ts';
import { DEAD_LETTER_FIELDS, decodeEntry } from '../../../adapter/redis-streams/entry-codec.ts';
import { idTimestampMs, successorId } from '../../../adapter/redis-streams/stream-id.ts';
import { parseEntries, type RawEntry } from '../../../adapter/redis-streams/stream-replies.ts';
import { PluginError } from '../plugin-error.ts';
import { redrivable, type DeadLetter, type DeadLetterSource, type Redriven } from './dead-letter.ts';

/** A publish that has not landed in this time failed; the dead letter then stays where it is. */
const PUBLISH_TIMEOUT_MS = 10_000;

/** The first value of a field of an entry (XADD allows repeated names; the first one counts). */
function fieldValue(fields: readonly string[], name: string): string | undefined {
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === name) return fields[i + 1];
  return undefined;
}

/** A `<stream>:dlq` entry as a dead letter: the original fields, and what the dead-lettering added. */
export function redisDeadLetter(entry: RawEntry): DeadLetter {
  const fields = entry.fields ?? [];
  const value = (name: string): string | undefined => fieldValue(fields, name);
  const decoded = decodeEntry(fields);
  const deliveries = Number(value(DEAD_LETTER_FIELDS.deliveryCount));
  const details: Record<string, string> = {};
  for (const [label, name] of [
    ['group', DEAD_LETTER_FIELDS.group],
    ['consumer', DEAD_LETTER_FIELDS.consumer],
  ] as const) {
    const found = value(name);
    if (found !== undefined) details[label] = found;
  }
  return {
    backend: 'redis',
    id: entry.id,
    reason: value(DEAD_LETTER_FIELDS.reason),
    deliveries: Number.isInteger(deliveries) ? deliveries : undefined,
    deadAt: idTimestampMs(entry.id),
    originalId: value(DEAD_LETTER_FIELDS.originalId),
    message: decoded.ok ? { ok: true, value: decoded.message } : { ok: false, problem: decoded.problem },
    details,
  };
}

/**
 * How a redriven entry leaves the dead-letter stream. The oldest entry goes by an exact
 * `XTRIM MINID` just past it, which removes that entry only (nothing older exists, and new entries
 * always get larger ids); least-privilege ACL users, like the operator's, are granted XTRIM but not
 * XDEL. Any other entry needs XDEL.
 */
export function removalCommand(key: string, id: string, oldestId: string | undefined): [string, string[]] {
  return id === oldestId ? ['XTRIM', [key, 'MINID', successorId(id)]] : ['XDEL', [key, id]];
}

/** `<stream>:dlq` of a QueueMigration's stream; redrives go back to the stream through the adapter. */
export class RedisDeadLetters implements DeadLetterSource {
  readonly backend = 'redis';
  readonly where: string;
  private readonly key: string;
  private readonly stream: RedisStreamsBackend;
  private readonly client: Redis;

  constructor(config: RedisStreamsConfig, logger: Logger) {
    this.stream = new RedisStreamsBackend(config, { logger });
    this.key = this.stream.deadLetterStream;
    this.where = `stream ${this.key} on ${describeRedis(config.connection)} (redrive to ${config.stream})`;
    this.client = createRedisClient(config.connection, {
      connectionName: `queueshift:dead-letters:${config.consumerName}`,
      // A command-line tool reports an unreachable server instead of waiting for it.
      overrides: {
        lazyConnect: true,
        maxRetriesPerRequest: 1,
        connectTimeout: 5_000,
        commandTimeout: 10_000,
      },
    });
    this.client.on('error', () => {
      // Reported by the command that meets it.
    });
  }

  async list(limit: number): Promise<DeadLetter[]> {
    return (await this.range('-', '+', limit)).map(redisDeadLetter);
  }

  async find(id: string): Promise<DeadLetter | undefined> {
    const [entry] = await this.range(id, id, 1);
    return entry === undefined ? undefined : redisDeadLetter(entry);
  }

  async redrive(
    id: string | undefined,
    accept: (letter: DeadLetter) => boolean = () => true,
  ): Promise<Redriven | undefined> {
    const [oldest] = await this.range('-', '+', 1);
    const target = id === undefined ? oldest : (await this.range(id, id, 1))[0];
    if (target === undefined) {
      if (id === undefined) return undefined;
      throw new PluginError('PLUGIN_NO_DEAD_LETTER', `no entry ${id} in ${this.key}`);
    }
    const letter = redisDeadLetter(target);
    if (!accept(letter)) return undefined;
    const { messageId } = await this.stream
      .publish(redrivable(letter), AbortSignal.timeout(PUBLISH_TIMEOUT_MS))
      .catch((error: unknown) => {
        throw this.failure(
          `publishing dead letter ${letter.id} back to the stream (it stays in ${this.key})`,
          error,
        );
      });
    const [command, args] = removalCommand(this.key, letter.id, oldest?.id);
    const removed = await this.client.call(command, ...args).catch((error: unknown) => {
      throw this.failure(
        `dead letter ${letter.id} was published again as ${messageId} but ${command} on ${this.key} failed, ` +
          'so it is still there: remove it before redriving again (a second copy would be handled once, by ' +
          'delivery id)',
        error,
      );
    });
    return {
      letter,
      newId: messageId,
      ...(removed === 0 && {
        note: `${letter.id} had already left ${this.key} (another redrive at the same time?); the stream holds a second copy, handled once by delivery id`,
      }),
    };
  }

  async close(): Promise<void> {
    this.client.disconnect();
    await this.stream.close();
  }

  private async range(start: string, end: string, count: number): Promise<RawEntry[]> {
    try {
      return parseEntries(await this.client.call('XRANGE', this.key, start, end, 'COUNT', count), this.key);
    } catch (error) {
      throw this.failure(`reading ${this.key}`, error);
    }
  }

  private failure(what: string, error: unknown): PluginError {
    return new PluginError('PLUGIN_QUEUE_FAILED', `${what}: ${(error as Error).message}`, { cause: error });
  }
}
