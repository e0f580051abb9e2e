import type { Logger } from 'pino';
import {
  readDeadLetterCopy,
  SqsBackend,
  SqsError,
  type Known,
  type ReceivedMessage,
  type RedisStreamsBackend,
  type SqsConfig,
} from '../../adapter/index.ts';
import type { SqsRemainder } from '../stages/observations.ts';
import { SqsSweepError } from './sqs-sweep-error.ts';

export interface SweepCounts {
  fromQueue: number;
  fromDeadLetterQueue: number;
}

export interface SweepOutcome {
  /** Messages now in Redis and deleted from SQS. */
  moved: SweepCounts;
  /** Why the sweep stopped early; what it moved before that is in `moved`. */
  failure?: SqsSweepError;
}

export interface SqsSweeperOptions {
  /** The queue; its dead-letter queue is the one the adapter dead-letters to (configured, else redrive). */
  sqs: SqsConfig;
  /** The migration's stream, for messages. */
  streamName: string;
  /** The back end on that stream, asked at each sweep: it is rebuilt when its settings change. */
  stream: () => RedisStreamsBackend;
  logger: Logger;
  /** Default: the adapter's SqsBackend. */
  openQueue?: (config: SqsConfig) => SqsBackend;
  /** How long one sweep goes on receiving, so that it holds its reconcile for a bounded time. Default 20 s. */
  budgetMs?: number;
}

const DEFAULT_BUDGET_MS = 20_000;

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

const isQueueGone = (error: unknown): boolean =>
  error instanceof SqsError && error.code === 'SQS_QUEUE_NOT_FOUND';

/**
 * Moves what lands in SQS once consumers read only Redis: messages of the queue into the stream,
 * in the entry layout the webhook publishes (so workers handle them like any other), and dead
 * letters of its DLQ into `<stream>:dlq` with their reason (never back into the live stream: they
 * already failed). A message is deleted from SQS only after Redis accepted it.
 */
export class SqsToStreamSweeper {
  private readonly options: SqsSweeperOptions;
  private readonly queue: SqsBackend;
  /** Back ends on dead-letter queues by URL (the redrive policy may name another one later). */
  private readonly deadLetterQueues = new Map<string, Source>();

  constructor(options: SqsSweeperOptions) {
    this.options = options;
    this.queue = this.open(options.sqs);
  }

  private open(config: SqsConfig): SqsBackend {
    return this.options.openQueue?.(config) ?? new SqsBackend(config, { logger: this.options.logger });
  }

  /** The dead-letter queue as a back end of its own, or undefined when the queue has none. */
  private async deadLetterQueue(): Promise<Source | undefined> {
    const url = (await this.queue.verify()).deadLetterQueue?.url;
    if (url === undefined) return undefined;
    let source = this.deadLetterQueues.get(url);
    if (source === undefined) {
      source = { url, backend: this.open({ ...this.options.sqs, queueUrl: url }) };
      this.deadLetterQueues.set(url, source);
    }
    return source;
  }

  /** What is left to sweep; unknown (with why) is never 0. */
  async remainder(): Promise<SqsRemainder> {
    const { queueUrl } = this.options.sqs;
    let depth: number;
    let deadLetters: Known<number>;
    try {
      const stats = await this.queue.stats();
      depth = stats.depth;
      deadLetters = stats.deadLetterDepth;
    } catch (error) {
      const unknown = { known: false, reason: `SQS ${queueUrl}: ${messageOf(error)}` } as const;
      return { queue: isQueueGone(error) ? 'gone' : unknown, deadLetters: unknown };
    }
    const queue = { known: true, value: depth } as const;
    if (deadLetters.known) return { queue, deadLetters };
    // Unknown means "there is none" or "it cannot be read": only the first is as good as empty.
    try {
      return { queue, deadLetters: (await this.deadLetterQueue()) === undefined ? 'none' : deadLetters };
    } catch {
      return { queue, deadLetters };
    }
  }

  /** Moves up to `maxMessages`, the queue's first, then its dead letters. */
  async sweep(maxMessages: number): Promise<SweepOutcome> {
    const moved: SweepCounts = { fromQueue: 0, fromDeadLetterQueue: 0 };
    const signal = AbortSignal.timeout(this.options.budgetMs ?? DEFAULT_BUDGET_MS);
    const queue: Source = { url: this.options.sqs.queueUrl, backend: this.queue };
    try {
      const stream = this.options.stream();
      await this.move(queue, maxMessages, signal, {
        target: this.options.streamName,
        // A live message carries no dead-letter note: its copy's message is the delivery as published.
        add: (message) => stream.publish(readDeadLetterCopy(message).message, signal),
        moved: (count) => (moved.fromQueue += count),
      });
      const left = maxMessages - moved.fromQueue;
      const deadLetterQueue =
        left > 0 ? await readFailure(queue.url, () => this.deadLetterQueue()) : undefined;
      if (deadLetterQueue !== undefined) {
        await this.move(deadLetterQueue, left, signal, {
          target: stream.deadLetterStream,
          add: (message) => {
            const copy = readDeadLetterCopy(message);
            const note = {
              reason: copy.reason ?? `moved from SQS DLQ after ${message.deliveryCount} receives`,
              originalId: copy.sourceMessageId ?? message.messageId,
              deliveryCount: copy.deliveryCount ?? message.deliveryCount,
            };
            return stream.addDeadLetter(copy.message, note, signal);
          },
          moved: (count) => (moved.fromDeadLetterQueue += count),
        });
      }
      return { moved };
    } catch (error) {
      const failure =
        error instanceof SqsSweepError
          ? error
          : new SqsSweepError(
              'SQS_SWEEP_REDIS_REFUSED',
              { queueUrl: queue.url, target: this.options.streamName },
              messageOf(error),
              { cause: error },
            );
      return { moved, failure };
    }
  }

  /** Deletes the queue; its dead-letter queue stays (what is in it may still be wanted). */
  async deleteQueue(): Promise<void> {
    await this.queue.deleteQueue();
  }

  async close(): Promise<void> {
    const backends = [this.queue, ...[...this.deadLetterQueues.values()].map((source) => source.backend)];
    this.deadLetterQueues.clear();
    await Promise.all(backends.map((backend) => backend.close()));
  }

  /**
   * Receives up to `limit` messages from `source`, adds each to Redis, and deletes from SQS those
   * Redis accepted; refused ones are given back at once. A crash (or a failed delete) between the
   * add and the delete leaves the message in SQS to be added again by a later sweep: the stream
   * then holds two entries with one delivery id, and workers handle the delivery once, since the
   * idempotency store's done mark of that id makes the second a duplicate to acknowledge.
   */
  private async move(source: Source, limit: number, signal: AbortSignal, into: Destination): Promise<void> {
    const { backend } = source;
    const about = (messages: readonly ReceivedMessage[]) => ({
      queueUrl: source.url,
      target: into.target,
      deliveryIds: messages.map((m) => m.deliveryId),
    });
    let left = limit;
    while (left > 0 && !signal.aborted) {
      const batch = await readFailure(source.url, () => backend.receive(left, signal));
      if (batch.length === 0) return;
      left -= batch.length;
      const added = await Promise.allSettled(batch.map((message) => into.add(message)));
      const accepted = batch.filter((_, i) => added[i]?.status === 'fulfilled');
      const refused = batch.filter((_, i) => added[i]?.status === 'rejected');
      await Promise.all(refused.map((message) => backend.retryLater(message, 0).catch(() => undefined)));
      const undeleted = await backend.ack(accepted);
      const count = accepted.length - undeleted.length;
      into.moved(count);
      this.options.logger.info(
        { queueUrl: source.url, target: into.target, moved: count },
        'swept SQS into Redis',
      );
      const refusal = added.find((result) => result.status === 'rejected');
      if (refusal !== undefined) {
        throw new SqsSweepError('SQS_SWEEP_REDIS_REFUSED', about(refused), messageOf(refusal.reason), {
          cause: refusal.reason,
        });
      }
      const [first] = undeleted;
      if (first !== undefined) {
        throw new SqsSweepError(
          'SQS_SWEEP_DELETE_FAILED',
          about(undeleted.map((failure) => failure.message)),
          first.error.message,
          { cause: first.error },
        );
      }
    }
  }
}

interface Source {
  url: string;
  backend: SqsBackend;
}

interface Destination {
  /** The Redis key, for messages. */
  target: string;
  add: (message: ReceivedMessage) => Promise<unknown>;
  moved: (count: number) => void;
}

/** A failure to read SQS as the sweep's coded error: nothing was moved by that read. */
async function readFailure<T>(queueUrl: string, read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (error) {
    throw new SqsSweepError('SQS_SWEEP_READ_FAILED', { queueUrl, target: 'Redis' }, messageOf(error), {
      cause: error,
    });
  }
}
