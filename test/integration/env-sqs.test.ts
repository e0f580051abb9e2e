import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  CreateQueueCommand,
  DeleteMessageCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type Message,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sqsClient } from '../env/sqs.ts';
import { required } from '../env/test-environment.ts';

function defined<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`the emulator's answer has no ${what}`);
  return value;
}

describe('SQS emulator', () => {
  let client: SQSClient;
  const queues: string[] = [];

  beforeAll(() => {
    client = sqsClient(required('sqs'));
  });

  afterAll(async () => {
    for (const QueueUrl of queues) await client.send(new DeleteQueueCommand({ QueueUrl }));
    client.destroy();
  });

  /** A queue with a name of its own, so that tests never see each other's messages. */
  async function createQueue(attributes: Record<string, string> = {}): Promise<string> {
    const created = await client.send(
      new CreateQueueCommand({ QueueName: `env-sqs-${randomUUID()}`, Attributes: attributes }),
    );
    const url = defined(created.QueueUrl, 'QueueUrl');
    queues.push(url);
    return url;
  }

  async function attribute(
    QueueUrl: string,
    name: 'QueueArn' | 'ApproximateNumberOfMessages',
  ): Promise<string> {
    const { Attributes } = await client.send(
      new GetQueueAttributesCommand({ QueueUrl, AttributeNames: [name] }),
    );
    return defined(Attributes?.[name], name);
  }

  /** Receives at most one message, with its receive count; `visibilityTimeout` overrides the queue's. */
  async function receiveOne(QueueUrl: string, visibilityTimeout?: number): Promise<Message | undefined> {
    const { Messages } = await client.send(
      new ReceiveMessageCommand({
        QueueUrl,
        MaxNumberOfMessages: 1,
        WaitTimeSeconds: 0,
        MessageSystemAttributeNames: ['ApproximateReceiveCount'],
        ...(visibilityTimeout === undefined ? {} : { VisibilityTimeout: visibilityTimeout }),
      }),
    );
    return Messages?.[0];
  }

  const receiveCount = (message: Message | undefined): string | undefined =>
    message?.Attributes?.ApproximateReceiveCount;

  it('creates a queue on loopback and round-trips a message with its attributes', async () => {
    const queueUrl = await createQueue();
    expect(new URL(queueUrl).hostname).toBe('127.0.0.1');
    const sent = await client.send(
      new SendMessageCommand({
        QueueUrl: queueUrl,
        MessageBody: '{"action":"opened"}',
        MessageAttributes: { event: { DataType: 'String', StringValue: 'issues' } },
      }),
    );
    const { Messages } = await client.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, WaitTimeSeconds: 1, MessageAttributeNames: ['All'] }),
    );
    const received = defined(Messages?.[0], 'message');
    expect(received).toMatchObject({ MessageId: sent.MessageId, Body: '{"action":"opened"}' });
    expect(received.MessageAttributes?.['event']?.StringValue).toBe('issues');

    await client.send(
      new DeleteMessageCommand({
        QueueUrl: queueUrl,
        ReceiptHandle: defined(received.ReceiptHandle, 'handle'),
      }),
    );
    expect(await attribute(queueUrl, 'ApproximateNumberOfMessages')).toBe('0');
  });

  it('hides a received message for the visibility timeout, then delivers it again with a higher receive count', async () => {
    const queueUrl = await createQueue({ VisibilityTimeout: '1' });
    await client.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'retry me' }));

    const first = await receiveOne(queueUrl);
    expect(receiveCount(first)).toBe('1');
    expect(await receiveOne(queueUrl)).toBeUndefined();

    await sleep(1_500);
    const second = await receiveOne(queueUrl);
    expect(second?.MessageId).toBe(first?.MessageId);
    expect(receiveCount(second)).toBe('2');
  });

  it('moves a message to the dead-letter queue after maxReceiveCount receives', async () => {
    const deadLetterUrl = await createQueue();
    const queueUrl = await createQueue({
      RedrivePolicy: JSON.stringify({
        deadLetterTargetArn: await attribute(deadLetterUrl, 'QueueArn'),
        maxReceiveCount: 2,
      }),
    });
    const sent = await client.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'poison' }));

    // Visibility timeout 0: every receive gives the message straight back, as a failing consumer does.
    expect(receiveCount(await receiveOne(queueUrl, 0))).toBe('1');
    expect(receiveCount(await receiveOne(queueUrl, 0))).toBe('2');
    expect(await receiveOne(queueUrl, 0)).toBeUndefined();

    const dead = await receiveOne(deadLetterUrl);
    expect(dead).toMatchObject({ MessageId: sent.MessageId, Body: 'poison' });
    expect(await attribute(queueUrl, 'ApproximateNumberOfMessages')).toBe('0');
  });
});
