import { randomUUID } from 'node:crypto';
import {
  CreateQueueCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  SendMessageCommand,
  SetQueueAttributesCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { Redis } from 'ioredis';
import type { OutgoingMessage } from '../../../src/adapter/index.ts';
import { DEAD_LETTER_FIELDS, ENTRY_FIELDS } from '../../../src/adapter/redis-streams/entry-codec.ts';
import { encodeDeadLetter, encodeMessage } from '../../../src/adapter/sqs/message-codec.ts';
import { encodeEnvelope } from '../../../src/webhook/envelope.ts';
import type { LoadReport } from './steady-load.ts';

/** How the SDK names SQS's answer about a queue that does not exist (JSON and query protocols). */
const QUEUE_GONE = new Set(['QueueDoesNotExist', 'AWS.SimpleQueueService.NonExistentQueue']);

/** A `push` delivery as the webhook would have published it to SQS. */
function straggler(): OutgoingMessage {
  const deliveryId = `straggler-${randomUUID()}`;
  const head = { deliveryId, event: 'push', receivedAt: new Date().toISOString() };
  return {
    deliveryId,
    body: encodeEnvelope(head, '{"ref":"refs/heads/main","straggler":true}'),
    attributes: { event: 'push' },
  };
}

/**
 * Messages that land in SQS after consumers left it, sent straight with the SDK: deliveries a
 * producer published to the queue, and dead letters in its DLQ (with the reason a `dead` outcome
 * records, or none, as the redrive policy leaves them). Remembers what it sent, for the count.
 */
export class SqsStragglers {
  readonly live: string[] = [];
  /** Delivery id → the reason it was sent with (none: SQS's redrive policy moved it). */
  readonly dead = new Map<string, string | undefined>();
  private readonly sqs: SQSClient;
  private readonly queueUrl: string;
  private readonly deadLetterQueueUrl: string;

  private constructor(sqs: SQSClient, queueUrl: string, deadLetterQueueUrl: string) {
    this.sqs = sqs;
    this.queueUrl = queueUrl;
    this.deadLetterQueueUrl = deadLetterQueueUrl;
  }

  /** Creates `<queue>-dlq` and makes it the queue's redrive target, as a production queue has one. */
  static async withDeadLetterQueue(sqs: SQSClient, queueUrl: string): Promise<SqsStragglers> {
    const name = `${queueUrl.slice(queueUrl.lastIndexOf('/') + 1)}-dlq`;
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name }));
    if (QueueUrl === undefined) throw new Error(`the SQS emulator returned no URL for ${name}`);
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }),
    );
    await sqs.send(
      new SetQueueAttributesCommand({
        QueueUrl: queueUrl,
        Attributes: {
          RedrivePolicy: JSON.stringify({ deadLetterTargetArn: Attributes?.QueueArn, maxReceiveCount: 5 }),
        },
      }),
    );
    return new SqsStragglers(sqs, queueUrl, QueueUrl);
  }

  async sendLive(count: number): Promise<void> {
    for (let i = 0; i < count; i += 1) {
      const message = straggler();
      const fields = encodeMessage(message, { operation: 'publish', queueUrl: this.queueUrl });
      await this.sqs.send(new SendMessageCommand({ QueueUrl: this.queueUrl, ...fields }));
      this.live.push(message.deliveryId);
    }
  }

  /** A dead letter with `reason` as a handler's `dead` outcome records it; without, as redrive leaves it. */
  async sendDead(reason?: string): Promise<void> {
    const message = straggler();
    const received = {
      ...message,
      backend: 'sqs' as const,
      receipt: 'unused',
      messageId: randomUUID(),
      deliveryCount: 5,
      enqueuedAt: Date.now(),
    };
    const fields =
      reason === undefined
        ? encodeMessage(message, { operation: 'publish', queueUrl: this.deadLetterQueueUrl })
        : encodeDeadLetter(received, reason);
    await this.sqs.send(new SendMessageCommand({ QueueUrl: this.deadLetterQueueUrl, ...fields }));
    this.dead.set(message.deliveryId, reason);
  }

  /** The live stragglers as a load report, so the ledger counts them with the load's deliveries. */
  report(): LoadReport {
    return {
      sent: this.live.length,
      accepted: new Set(this.live),
      refused: {},
      redirected: 0,
      durationMs: 0,
    };
  }

  /** Visible + in flight + delayed of the queue, or `gone`. */
  async depth(which: 'queue' | 'deadLetterQueue'): Promise<number | 'gone'> {
    const QueueUrl = which === 'queue' ? this.queueUrl : this.deadLetterQueueUrl;
    try {
      const { Attributes = {} } = await this.sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl,
          AttributeNames: [
            'ApproximateNumberOfMessages',
            'ApproximateNumberOfMessagesNotVisible',
            'ApproximateNumberOfMessagesDelayed',
          ],
        }),
      );
      return Object.values(Attributes).reduce((sum, count) => sum + Number(count), 0);
    } catch (error) {
      if (QUEUE_GONE.has((error as Error).name)) return 'gone';
      throw error;
    }
  }

  async deleteDeadLetterQueue(): Promise<void> {
    await this.sqs.send(new DeleteQueueCommand({ QueueUrl: this.deadLetterQueueUrl }));
  }
}

/** Delivery id → reason of every entry of `<stream>:dlq`. */
export async function redisDeadLetters(redis: Redis, stream: string): Promise<Map<string, string>> {
  const entries = await redis.xrange(`${stream}:dlq`, '-', '+');
  return new Map(
    entries.map(([, fields]) => [
      fields[fields.indexOf(ENTRY_FIELDS.deliveryId) + 1] ?? '',
      fields[fields.indexOf(DEAD_LETTER_FIELDS.reason) + 1] ?? '',
    ]),
  );
}
