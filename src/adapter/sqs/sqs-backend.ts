import {
  ChangeMessageVisibilityBatchCommand,
  ChangeMessageVisibilityCommand,
  DeleteMessageBatchCommand,
  DeleteMessageCommand,
  DeleteQueueCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type ReceiveMessageResult,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { pino } from 'pino';
import type { SqsConfig } from '../config.ts';
import { systemClock, type Clock } from '../clock.ts';
import type {
  OutgoingMessage,
  QueueBackend,
  ReceivedMessage,
  SettleFailure,
  SqsQueueStats,
} from '../types.ts';
import { requiredField, wholeNumberField } from './answer-fields.ts';
import { chunks, entryId, SQS_BATCH_LIMIT, unconfirmed, type BatchAnswer } from './batch-entries.ts';
import { createSqsClient } from './client.ts';
import { checkConfig } from './config-check.ts';
import { DeadLetterQueues } from './dead-letter-queues.ts';
import { decodeMessage, encodeDeadLetter, encodeMessage } from './message-codec.ts';
import { COUNT_ATTRIBUTES, readCounts, readFifo, readRedrivePolicy } from './queue-attributes.ts';
import { preflightWarnings, type SqsQueueProfile } from './queue-profile.ts';
import { fifoQueueError, SqsError, type SqsErrorContext, type SqsOperation } from './sqs-error.ts';
import { SqsRequests } from './sqs-requests.ts';
import { visibilityTimeoutSeconds } from './visibility.ts';

/** pino's logger fits; so does any object with these methods. */
export interface SqsLogger {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
}

export interface SqsBackendOptions {
  /** Default: pino on stdout, named `queueshift-sqs`. */
  logger?: SqsLogger;
  /** Builds the SDK client; the back end owns it and destroys it on close(). Default: createSqsClient. */
  createClient?: (config: SqsConfig) => SQSClient;
  /** Runs request budgets, and dates receives for SQS's 12-hour visibility limit. Default: the system clock. */
  clock?: Clock;
  /**
   * Budget of a request without a caller's signal (ack, keepAlive, ping, stats, …), and the grace a
   * long poll gets beyond its wait time. The SDK itself never times a request out. Default 5 s.
   */
  requestTimeoutMs?: number;
}

const DEFAULT_REQUEST_TIMEOUT_MS = 5_000;

/**
 * A standard SQS queue as a QueueBackend: long polls, batches of at most 10, per-entry results of
 * batch calls, a visibility heartbeat, and explicit dead-lettering with the reason attached.
 */
export class SqsBackend implements QueueBackend {
  readonly kind = 'sqs';
  readonly #config: SqsConfig;
  readonly #requests: SqsRequests;
  readonly #deadLetterQueues: DeadLetterQueues;
  readonly #logger: SqsLogger;
  readonly #clock: Clock;
  /** When each message was received: SQS refuses visibility beyond 12 hours from then. */
  readonly #receivedAt = new WeakMap<ReceivedMessage, number>();
  /** Long polls whose caller stopped waiting: what they still receive is handed back (see receive). */
  readonly #abandonedPolls = new Set<Promise<void>>();

  /** Throws SQS_INVALID_CONFIG or SQS_FIFO_QUEUE before any request is made. */
  constructor(config: SqsConfig, options: SqsBackendOptions = {}) {
    checkConfig(config);
    const requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    if (!(requestTimeoutMs > 0)) {
      throw new SqsError(
        'SQS_INVALID_CONFIG',
        { operation: 'configure', queueUrl: config.queueUrl },
        `requestTimeoutMs is ${requestTimeoutMs}; it must be above 0`,
      );
    }
    this.#config = config;
    this.#logger = options.logger ?? pino({ name: 'queueshift-sqs' });
    this.#clock = options.clock ?? systemClock;
    const client = (options.createClient ?? createSqsClient)(config);
    this.#requests = new SqsRequests(client, this.#clock, requestTimeoutMs);
    this.#deadLetterQueues = new DeadLetterQueues(this.#requests, config.deadLetterQueueUrl);
  }

  async publish(message: OutgoingMessage, signal?: AbortSignal): Promise<{ messageId: string }> {
    const context = this.#context('publish');
    const encoded = encodeMessage(message, context);
    const answer = await this.#requests.send(
      context,
      (client, abortSignal) =>
        client.send(new SendMessageCommand({ QueueUrl: this.#config.queueUrl, ...encoded }), { abortSignal }),
      { caller: signal },
    );
    return { messageId: requiredField(answer.MessageId, 'MessageId', context) };
  }

  /**
   * A caller that stops waiting (a consumer shutting down) gets an empty list at once, but the long
   * poll itself is left to finish: SQS cannot be told to end one, and a poll cut off on the client
   * still takes messages that arrive meanwhile, which then stay invisible for the whole visibility
   * timeout (and spend a receive). Whatever it brings is handed back at once instead; close() waits
   * for that.
   */
  async receive(max: number, signal: AbortSignal): Promise<ReceivedMessage[]> {
    const count = Math.min(Math.floor(max), SQS_BATCH_LIMIT);
    if (count < 1 || signal.aborted) return [];
    const context = this.#context('receive');
    // Taken before the request: SQS counts its 12 hours from the moment it received the request,
    // so measuring from earlier keeps later visibility changes inside the limit.
    const requestedAt = this.#clock.now();
    const poll = this.#requests.send(
      context,
      (client, abortSignal) =>
        client.send(
          new ReceiveMessageCommand({
            QueueUrl: this.#config.queueUrl,
            MaxNumberOfMessages: count,
            WaitTimeSeconds: this.#config.waitTimeSeconds,
            VisibilityTimeout: this.#config.visibilityTimeoutSeconds,
            MessageSystemAttributeNames: ['ApproximateReceiveCount', 'SentTimestamp'],
            MessageAttributeNames: ['All'],
          }),
          { abortSignal },
        ),
      { timeoutMs: this.#config.waitTimeSeconds * 1_000 + this.#requests.timeoutMs },
    );
    let answer: ReceiveMessageResult | undefined;
    try {
      answer = await untilAborted(poll, signal);
    } catch (error) {
      // close() ended the poll: anything SQS handed out meanwhile comes back after its visibility timeout.
      if (error instanceof SqsError && error.code === 'SQS_CLOSED') return [];
      throw error;
    }
    if (answer === undefined) {
      this.#handBackWhenAnswered(poll);
      return [];
    }
    return this.#decode(answer, context, requestedAt);
  }

  ack(messages: readonly ReceivedMessage[]): Promise<SettleFailure[]> {
    return this.#inBatches(this.#context('ack'), messages, (client, chunk, abortSignal) =>
      client.send(
        new DeleteMessageBatchCommand({
          QueueUrl: this.#config.queueUrl,
          Entries: chunk.map((message, index) => ({ Id: entryId(index), ReceiptHandle: message.receipt })),
        }),
        { abortSignal },
      ),
    );
  }

  async keepAlive(messages: readonly ReceivedMessage[]): Promise<void> {
    const context = this.#context('keepAlive');
    const wantedMs = this.#config.visibilityTimeoutSeconds * 1_000;
    const failures = await this.#changeVisibility(context, messages, (message) =>
      this.#visibilityFor(message, wantedMs),
    );
    if (failures.length > 0) {
      const list = failures.map((f) => `${f.message.messageId}: ${f.error.message}`).join('; ');
      throw new SqsError(
        'SQS_KEEPALIVE_FAILED',
        context,
        `${failures.length} of ${messages.length} messages could not be kept invisible: ${list}`,
        { failures },
      );
    }
  }

  async retryLater(message: ReceivedMessage, delayMs: number): Promise<void> {
    await this.#requests.send(this.#context('retryLater', message.messageId), (client, abortSignal) =>
      client.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: this.#config.queueUrl,
          ReceiptHandle: message.receipt,
          VisibilityTimeout: this.#visibilityFor(message, delayMs),
        }),
        { abortSignal },
      ),
    );
  }

  async deadLetter(message: ReceivedMessage, reason: string): Promise<void> {
    const context = this.#context('deadLetter', message.messageId);
    const target = await this.#deadLetterQueues.url(context, async () =>
      readRedrivePolicy(await this.#requests.attributes(context, ['RedrivePolicy']), context),
    );
    if (target === undefined) {
      throw new SqsError(
        'SQS_NO_DEAD_LETTER_QUEUE',
        context,
        'no dead-letter queue: set SQS_DLQ_URL or give the queue a redrive policy; the message stays in the queue',
      );
    }
    const copy = await this.#requests.send({ ...context, queueUrl: target }, (client, abortSignal) =>
      client.send(new SendMessageCommand({ QueueUrl: target, ...encodeDeadLetter(message, reason) }), {
        abortSignal,
      }),
    );
    try {
      await this.#requests.send(context, (client, abortSignal) =>
        client.send(
          new DeleteMessageCommand({ QueueUrl: this.#config.queueUrl, ReceiptHandle: message.receipt }),
          {
            abortSignal,
          },
        ),
      );
    } catch (error) {
      throw new SqsError(
        'SQS_DEAD_LETTER_DELETE_FAILED',
        context,
        `copied to ${target} as ${copy.MessageId ?? '(no id)'} but not deleted here: it will be delivered again`,
        { cause: error },
      );
    }
    this.#logger.info(
      {
        queueUrl: this.#config.queueUrl,
        deadLetterQueueUrl: target,
        messageId: message.messageId,
        deliveryId: message.deliveryId,
        reason,
      },
      'dead-lettered an SQS message',
    );
  }

  async ping(): Promise<void> {
    await this.#requests.attributes(this.#context('ping'), ['QueueArn']);
  }

  async stats(): Promise<SqsQueueStats> {
    const context = this.#context('stats');
    const attributes = await this.#requests.attributes(context, [...COUNT_ATTRIBUTES, 'RedrivePolicy']);
    const { visible, inFlight, delayed } = readCounts(attributes, context);
    return {
      kind: 'sqs',
      queueUrl: this.#config.queueUrl,
      visible,
      inFlight,
      delayed,
      depth: visible + inFlight + delayed,
      deadLetterDepth: await this.#deadLetterQueues.depth(context, () =>
        Promise.resolve(readRedrivePolicy(attributes, context)),
      ),
    };
  }

  /**
   * The operator's preflight: the queue exists and is not FIFO, and what it needs to judge the
   * queue (retention, visibility, redrive policy, where dead letters go), with warnings.
   */
  async verify(): Promise<SqsQueueProfile> {
    const context = this.#context('verify');
    const attributes = await this.#requests.attributes(context, [
      'QueueArn',
      'FifoQueue',
      'MessageRetentionPeriod',
      'VisibilityTimeout',
      'RedrivePolicy',
    ]);
    if (readFifo(attributes)) throw fifoQueueError(context);
    const redrivePolicy = readRedrivePolicy(attributes, context);
    const deadLetterQueue = await this.#deadLetterQueues.describe(context, redrivePolicy);
    const number = (name: string): number => wholeNumberField(attributes[name], name, context);
    return {
      queueUrl: this.#config.queueUrl,
      queueArn: requiredField(attributes['QueueArn'], 'QueueArn', context),
      retentionSeconds: number('MessageRetentionPeriod'),
      visibilityTimeoutSeconds: number('VisibilityTimeout'),
      redrivePolicy,
      deadLetterQueue,
      warnings: preflightWarnings({
        queueUrl: this.#config.queueUrl,
        redrivePolicy,
        deadLetterQueue,
        maxDeliveries: this.#config.maxDeliveries,
      }),
    };
  }

  /**
   * Deletes the queue itself (never its dead-letter queue), for the operator's cleanup once the
   * queue was swept empty. A queue that is already gone counts as deleted. SQS may go on answering
   * for the queue for up to a minute after this returns.
   */
  async deleteQueue(): Promise<void> {
    const context = this.#context('deleteQueue');
    try {
      await this.#requests.send(context, (client, abortSignal) =>
        client.send(new DeleteQueueCommand({ QueueUrl: this.#config.queueUrl }), { abortSignal }),
      );
    } catch (error) {
      if (error instanceof SqsError && error.code === 'SQS_QUEUE_NOT_FOUND') return;
      throw error;
    }
    this.#logger.info({ queueUrl: this.#config.queueUrl }, 'deleted the SQS queue');
  }

  /**
   * Waits until abandoned long polls have handed back what they received (each ends within its
   * wait time), then aborts requests in flight (a live long poll included) and releases the
   * client's sockets.
   */
  async close(): Promise<void> {
    await Promise.all(this.#abandonedPolls);
    this.#requests.close();
  }

  #decode(answer: ReceiveMessageResult, context: SqsErrorContext, requestedAt: number): ReceivedMessage[] {
    return (answer.Messages ?? []).map((raw) => {
      const { message, hasDeliveryId } = decodeMessage(raw, context);
      if (!hasDeliveryId) {
        this.#logger.warn(
          { queueUrl: this.#config.queueUrl, messageId: message.messageId, deliveryId: message.deliveryId },
          'SQS message without a delivery id attribute (not published by queueshift); its MessageId stands in as the idempotency key',
        );
      }
      this.#receivedAt.set(message, requestedAt);
      return message;
    });
  }

  /** Makes what an abandoned poll receives visible again at once; a failure leaves it to its visibility timeout. */
  #handBackWhenAnswered(poll: Promise<ReceiveMessageResult>): void {
    const context = this.#context('receive');
    const handBack = async (): Promise<void> => {
      const messages = this.#decode(await poll, context, this.#clock.now());
      if (messages.length === 0) return;
      const failures = await this.#changeVisibility(context, messages, () => 0);
      this.#logger.info(
        { queueUrl: this.#config.queueUrl, messages: messages.length, notHandedBack: failures.length },
        'handed back what a long poll received after its consumer stopped waiting',
      );
    };
    const handing = handBack()
      .catch((error: unknown) => {
        this.#logger.warn(
          { queueUrl: this.#config.queueUrl, err: (error as Error).message },
          'a long poll its consumer stopped waiting for failed; anything it received comes back after the visibility timeout',
        );
      })
      .finally(() => this.#abandonedPolls.delete(handing));
    this.#abandonedPolls.add(handing);
  }

  #context(operation: SqsOperation, messageId?: string): SqsErrorContext {
    return { operation, queueUrl: this.#config.queueUrl, ...(messageId !== undefined && { messageId }) };
  }

  /**
   * A batch call per 10 messages, all at once. A request that fails as a whole fails each of its
   * messages: nothing is reported settled that SQS did not confirm.
   */
  async #inBatches(
    context: SqsErrorContext,
    messages: readonly ReceivedMessage[],
    request: (
      client: SQSClient,
      chunk: readonly ReceivedMessage[],
      signal: AbortSignal,
    ) => Promise<BatchAnswer>,
  ): Promise<SettleFailure[]> {
    const perChunk = await Promise.all(
      chunks(messages).map(async (chunk) => {
        try {
          const answer = await this.#requests.send(context, (client, signal) =>
            request(client, chunk, signal),
          );
          return unconfirmed(chunk, answer, context);
        } catch (error) {
          // SqsRequests.send throws SqsError only.
          return chunk.map((message) => ({ message, error: error as SqsError }));
        }
      }),
    );
    return perChunk.flat();
  }

  #changeVisibility(
    context: SqsErrorContext,
    messages: readonly ReceivedMessage[],
    seconds: (message: ReceivedMessage) => number,
  ): Promise<SettleFailure[]> {
    return this.#inBatches(context, messages, (client, chunk, abortSignal) =>
      client.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: this.#config.queueUrl,
          Entries: chunk.map((message, index) => ({
            Id: entryId(index),
            ReceiptHandle: message.receipt,
            VisibilityTimeout: seconds(message),
          })),
        }),
        { abortSignal },
      ),
    );
  }

  #visibilityFor(message: ReceivedMessage, wantedMs: number): number {
    const now = this.#clock.now();
    return visibilityTimeoutSeconds(wantedMs, now - (this.#receivedAt.get(message) ?? now));
  }
}

/** The request's answer, or undefined as soon as `signal` aborts (the request itself goes on). */
function untilAborted<T>(request: Promise<T>, signal: AbortSignal): Promise<T | undefined> {
  if (signal.aborted) return Promise.resolve(undefined);
  return new Promise<T | undefined>((resolve, reject) => {
    const onAbort = (): void => {
      resolve(undefined);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    request.then(resolve, reject).finally(() => {
      signal.removeEventListener('abort', onAbort);
    });
  });
}
