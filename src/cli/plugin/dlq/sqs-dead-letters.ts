import type { Logger } from 'pino';
import {
  readDeadLetterCopy,
  SqsBackend,
  type ReceivedMessage,
  type SqsConfig,
} from '../../../adapter/index.ts';
import { PluginError } from '../plugin-error.ts';
import { redrivable, type DeadLetter, type DeadLetterSource, type Redriven } from './dead-letter.ts';

/**
 * How long a message read for `list` or `find` stays hidden from other readers at most; each is
 * made visible again as soon as the reading is done.
 */
const READ_HOLD_SECONDS = 30;
/** A message being redriven stays hidden for this long: ample for one publish and one delete. */
const REDRIVE_HOLD_SECONDS = 120;
/** `find` gives up after reading this many messages without meeting the id. */
const FIND_SCAN_LIMIT = 1_000;

/** A received dead-letter copy as a dead letter; its original delivery id and attributes as published. */
export function sqsDeadLetter(received: ReceivedMessage): DeadLetter {
  const copy = readDeadLetterCopy(received);
  return {
    backend: 'sqs',
    id: received.messageId,
    reason: copy.reason,
    deliveries: copy.deliveryCount,
    deadAt: received.enqueuedAt,
    originalId: copy.sourceMessageId,
    message: { ok: true, value: copy.message },
    details: { 'times read in the dead-letter queue': String(received.deliveryCount) },
  };
}

/**
 * The dead-letter queue of a QueueMigration's SQS queue (spec.sqs.deadLetterQueueUrl, else the
 * queue's redrive policy target), read and emptied through the adapter's own SQS back end. SQS has
 * no way to look without receiving: reading hides messages for a short while and gives each back
 * at once afterwards.
 */
export class SqsDeadLetters implements DeadLetterSource {
  readonly backend = 'sqs';
  readonly where: string;
  private readonly queue: SqsBackend;
  private readonly reader: SqsBackend;
  private readonly mover: SqsBackend;

  private constructor(queue: SqsBackend, config: SqsConfig, deadLetterQueueUrl: string, logger: Logger) {
    this.queue = queue;
    const onDeadLetterQueue = (visibilityTimeoutSeconds: number): SqsBackend =>
      new SqsBackend(
        {
          queueUrl: deadLetterQueueUrl,
          region: config.region,
          ...(config.endpoint !== undefined && { endpoint: config.endpoint }),
          waitTimeSeconds: config.waitTimeSeconds,
          visibilityTimeoutSeconds,
          maxDeliveries: config.maxDeliveries,
        },
        { logger },
      );
    this.reader = onDeadLetterQueue(READ_HOLD_SECONDS);
    this.mover = onDeadLetterQueue(REDRIVE_HOLD_SECONDS);
    this.where = `queue ${deadLetterQueueUrl} (redrive to ${config.queueUrl})`;
  }

  /** Finds the dead-letter queue; refuses when the queue has none. */
  static async open(config: SqsConfig, logger: Logger): Promise<SqsDeadLetters> {
    const queue = new SqsBackend(config, { logger });
    try {
      const { deadLetterQueue } = await queue.verify();
      if (deadLetterQueue === undefined) {
        throw new PluginError(
          'PLUGIN_QUEUE_FAILED',
          `${config.queueUrl} has no dead-letter queue: neither spec.sqs.deadLetterQueueUrl nor a redrive policy`,
        );
      }
      return new SqsDeadLetters(queue, config, deadLetterQueue.url, logger);
    } catch (error) {
      await queue.close();
      if (error instanceof PluginError) throw error;
      throw new PluginError('PLUGIN_QUEUE_FAILED', `${config.queueUrl}: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }

  async list(limit: number): Promise<DeadLetter[]> {
    return this.scan(this.reader, limit, () => false).then(({ seen }) =>
      seen.map(sqsDeadLetter).sort((a, b) => a.deadAt - b.deadAt),
    );
  }

  async find(id: string): Promise<DeadLetter | undefined> {
    const { found } = await this.scan(this.reader, FIND_SCAN_LIMIT, (message) => message.messageId === id);
    if (found === undefined) return undefined;
    await this.reader.retryLater(found, 0).catch(() => undefined);
    return sqsDeadLetter(found);
  }

  async redrive(
    id: string | undefined,
    accept: (letter: DeadLetter) => boolean = () => true,
  ): Promise<Redriven | undefined> {
    const { found } = await this.scan(this.mover, id === undefined ? 1 : FIND_SCAN_LIMIT, (message) =>
      id === undefined ? true : message.messageId === id,
    );
    if (found === undefined) {
      if (id === undefined) return undefined;
      throw new PluginError('PLUGIN_NO_DEAD_LETTER', `no message ${id} in ${this.where}`);
    }
    const letter = sqsDeadLetter(found);
    if (!accept(letter)) {
      await this.mover.retryLater(found, 0).catch(() => undefined);
      return undefined;
    }
    let newId: string;
    try {
      ({ messageId: newId } = await this.queue.publish(redrivable(letter)));
    } catch (error) {
      await this.mover.retryLater(found, 0).catch(() => undefined);
      throw this.failure(
        `publishing dead letter ${letter.id} back to the queue (it stays in the dead-letter queue)`,
        error,
      );
    }
    const [failure] = await this.mover.ack([found]);
    if (failure !== undefined) {
      throw this.failure(
        `dead letter ${letter.id} was published again as ${newId} but could not be deleted from the ` +
          `dead-letter queue, where it shows again within ${REDRIVE_HOLD_SECONDS} s: delete it before ` +
          'redriving again (a second copy would be handled once, by delivery id)',
        failure.error,
      );
    }
    return { letter, newId };
  }

  async close(): Promise<void> {
    await Promise.all([this.queue.close(), this.reader.close(), this.mover.close()]);
  }

  /**
   * Receives until `wanted` matches or `limit` messages were seen or the queue has none left, then
   * gives back every message seen except the match, which the caller then holds.
   */
  private async scan(
    backend: SqsBackend,
    limit: number,
    wanted: (message: ReceivedMessage) => boolean,
  ): Promise<{ seen: ReceivedMessage[]; found: ReceivedMessage | undefined }> {
    const seen = new Map<string, ReceivedMessage>();
    let found: ReceivedMessage | undefined;
    try {
      while (found === undefined && seen.size < limit) {
        const batch = await backend.receive(limit - seen.size, AbortSignal.timeout(30_000));
        const fresh = batch.filter((message) => !seen.has(message.messageId));
        if (fresh.length === 0) break;
        for (const message of fresh) {
          seen.set(message.messageId, message);
          if (found === undefined && wanted(message)) found = message;
        }
      }
    } catch (error) {
      throw this.failure(`reading ${this.where}`, error);
    } finally {
      await Promise.all(
        [...seen.values()]
          .filter((message) => message !== found)
          .map((message) => backend.retryLater(message, 0).catch(() => undefined)),
      );
    }
    return { seen: [...seen.values()], found };
  }

  private failure(what: string, error: unknown): PluginError {
    if (error instanceof PluginError) return error;
    return new PluginError('PLUGIN_QUEUE_FAILED', `${what}: ${(error as Error).message}`, { cause: error });
  }
}
