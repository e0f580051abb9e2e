import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  CreateQueueCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  SendMessageCommand,
  type DeleteMessageBatchCommandInput,
  type DeleteMessageBatchCommandOutput,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { SqsConfig } from '../../../src/adapter/config.ts';
import { systemClock } from '../../../src/adapter/clock.ts';
import { createSqsClient } from '../../../src/adapter/sqs/client.ts';
import {
  DEAD_REASON_ATTRIBUTE,
  RECEIVE_COUNT_ATTRIBUTE,
  SOURCE_MESSAGE_ID_ATTRIBUTE,
} from '../../../src/adapter/sqs/message-codec.ts';
import { SqsBackend, type SqsBackendOptions } from '../../../src/adapter/sqs/sqs-backend.ts';
import type { OutgoingMessage, ReceivedMessage } from '../../../src/adapter/types.ts';
import { freePort } from '../../env/ports.ts';
import { sqsClient } from '../../env/sqs.ts';
import { daemonPid } from '../../env/state.ts';
import { environment, required } from '../../env/test-environment.ts';
import { waitUntil } from '../../env/wait.ts';

const sqs = required('sqs');
/** The test's own client, for what a back end never does: creating queues, sending delayed messages. */
let admin: SQSClient;
const queues: string[] = [];
const backends: SqsBackend[] = [];
const silent = pino({ level: 'silent' });
/** A consumer's signal that never aborts. */
const running = new AbortController().signal;

beforeAll(() => {
  // The back end takes credentials from the SDK's default chain, as in production: here, from
  // the environment, with the dummy values the emulator accepts.
  vi.stubEnv('AWS_ACCESS_KEY_ID', 'test');
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'test');
  admin = sqsClient(sqs);
});

afterAll(async () => {
  for (const backend of backends) await backend.close();
  for (const QueueUrl of queues) await admin.send(new DeleteQueueCommand({ QueueUrl }));
  admin.destroy();
  vi.unstubAllEnvs();
});

/** A queue of this test's own, so that parallel tests never see each other's messages. */
async function createQueue(attributes: Record<string, string> = {}, suffix = ''): Promise<string> {
  const { QueueUrl } = await admin.send(
    new CreateQueueCommand({ QueueName: `sqs-backend-${randomUUID()}${suffix}`, Attributes: attributes }),
  );
  if (QueueUrl === undefined) throw new Error('the emulator created a queue without a URL');
  queues.push(QueueUrl);
  return QueueUrl;
}

async function queueArn(QueueUrl: string): Promise<string> {
  const { Attributes } = await admin.send(
    new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }),
  );
  const arn = Attributes?.['QueueArn'];
  if (arn === undefined) throw new Error(`the emulator gave no ARN for ${QueueUrl}`);
  return arn;
}

function backend(
  queueUrl: string,
  config: Partial<SqsConfig> = {},
  options: SqsBackendOptions = {},
): SqsBackend {
  const created = new SqsBackend(
    {
      queueUrl,
      region: sqs.region,
      endpoint: sqs.endpoint,
      waitTimeSeconds: 1,
      visibilityTimeoutSeconds: 30,
      maxDeliveries: 5,
      ...config,
    },
    { logger: silent, ...options },
  );
  backends.push(created);
  return created;
}

const delivery = (attributes: Record<string, string> = { event: 'push' }): OutgoingMessage => ({
  deliveryId: randomUUID(),
  body: JSON.stringify({ action: 'opened', at: Date.now() }),
  attributes,
});

/** Receives until `count` messages arrived, `max` at a time. */
async function receiveAll(from: SqsBackend, count: number, max = 10): Promise<ReceivedMessage[]> {
  const received: ReceivedMessage[] = [];
  await waitUntil(
    async () => {
      received.push(...(await from.receive(max, running)));
      return received.length >= count;
    },
    { what: `${count} messages` },
  );
  return received;
}

async function receiveOne(from: SqsBackend): Promise<ReceivedMessage> {
  const [message] = await receiveAll(from, 1, 1);
  if (!message) throw new Error('receiveAll returned nothing');
  return message;
}

describe('SqsBackend against the SQS emulator', () => {
  it('publishes a delivery and receives it with its id, attributes, count and time; ack deletes it', async () => {
    const queue = backend(await createQueue());
    const sent = delivery({ event: 'issues', action: 'opened' });
    const before = Date.now();
    const { messageId } = await queue.publish(sent);
    const after = Date.now();

    const received = await receiveOne(queue);
    expect(received).toMatchObject({
      backend: 'sqs',
      deliveryId: sent.deliveryId,
      body: sent.body,
      attributes: { event: 'issues', action: 'opened' },
      messageId,
      deliveryCount: 1,
    });
    expect(received.enqueuedAt).toBeGreaterThanOrEqual(before);
    expect(received.enqueuedAt).toBeLessThanOrEqual(after);

    expect(await queue.ack([received])).toEqual([]);
    expect(await queue.stats()).toMatchObject({ visible: 0, inFlight: 0, delayed: 0, depth: 0 });
  });

  it('keys a message that queueshift did not publish by its MessageId, and warns about it', async () => {
    const queueUrl = await createQueue();
    const warnings: unknown[] = [];
    const queue = backend(queueUrl, {}, { logger: { info: () => undefined, warn: (f) => warnings.push(f) } });
    const { MessageId } = await admin.send(
      new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'legacy' }),
    );

    const received = await receiveOne(queue);
    expect(received).toMatchObject({ deliveryId: `sqs:${MessageId ?? ''}`, body: 'legacy', attributes: {} });
    expect(warnings).toEqual([expect.objectContaining({ queueUrl, messageId: MessageId })]);
  });

  it('never receives more than asked for, at most 10 at a time, and acks any number in batches', async () => {
    const queue = backend(await createQueue());
    await Promise.all(Array.from({ length: 25 }, () => queue.publish(delivery())));

    expect(await queue.receive(0, running)).toEqual([]);
    const few = await queue.receive(3, running);
    expect(few).toHaveLength(3);
    // SQS refuses MaxNumberOfMessages above 10; the back end asks for 10.
    const many = await queue.receive(50, running);
    expect(many.length).toBeGreaterThan(0);
    expect(many.length).toBeLessThanOrEqual(10);
    const all = [...few, ...many, ...(await receiveAll(queue, 25 - few.length - many.length))];
    expect(new Set(all.map((m) => m.messageId)).size).toBe(25);

    // Three DeleteMessageBatch calls: SQS takes at most 10 entries in one.
    expect(await queue.ack(all)).toEqual([]);
    expect(await queue.stats()).toMatchObject({ visible: 0, inFlight: 0, depth: 0 });
  });

  it('long polls: a receive waiting on an empty queue returns as soon as a message arrives', async () => {
    const queueUrl = await createQueue();
    const queue = backend(queueUrl, { waitTimeSeconds: 10 });
    const started = Date.now();
    const waiting = queue.receive(10, running);
    const sent = delivery();
    // The message arrives while the receive is waiting on the server.
    const publishing = sleep(500).then(() => backend(queueUrl).publish(sent));
    const [received] = await waiting;
    await publishing;
    expect(received?.deliveryId).toBe(sent.deliveryId);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it("ends a long poll when the caller's signal aborts, with nothing received", async () => {
    const queue = backend(await createQueue(), { waitTimeSeconds: 20 });
    const started = Date.now();
    expect(await queue.receive(10, AbortSignal.timeout(300))).toEqual([]);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('delivers an unacknowledged message again after the visibility timeout, with deliveryCount 2', async () => {
    const queueUrl = await createQueue();
    const consumer = backend(queueUrl, { visibilityTimeoutSeconds: 1 });
    const { messageId } = await consumer.publish(delivery());
    const first = await receiveOne(consumer);
    expect(first.deliveryCount).toBe(1);
    expect(await backend(queueUrl, { waitTimeSeconds: 0 }).receive(10, running)).toEqual([]);

    const again = await receiveOne(consumer);
    expect(again).toMatchObject({ messageId, deliveryId: first.deliveryId, deliveryCount: 2 });
    expect(again.receipt).not.toBe(first.receipt);
  });

  it('keepAlive keeps a message invisible well past its visibility timeout', async () => {
    const queueUrl = await createQueue();
    const consumer = backend(queueUrl, { visibilityTimeoutSeconds: 2 });
    const observer = backend(queueUrl, { waitTimeSeconds: 1, visibilityTimeoutSeconds: 30 });
    await consumer.publish(delivery());
    const held = await receiveOne(consumer);
    const receivedAt = Date.now();

    // A heartbeat every second (each observer poll waits one), for twice the 2 s timeout.
    while (Date.now() - receivedAt < 4_000) {
      await consumer.keepAlive([held]);
      expect(await observer.receive(10, running)).toEqual([]);
    }

    const released = await receiveOne(observer);
    expect(released).toMatchObject({ messageId: held.messageId, deliveryCount: 2 });
    expect(Date.now() - receivedAt).toBeGreaterThanOrEqual(4_000);
  });

  it('keepAlive names the message whose reservation was lost, and only that one', async () => {
    const queueUrl = await createQueue();
    const consumer = backend(queueUrl, { visibilityTimeoutSeconds: 1 });
    const other = backend(queueUrl, { visibilityTimeoutSeconds: 30 });
    await consumer.publish(delivery());
    const lost = await receiveOne(consumer);
    // Its visibility ran out and another consumer took it: the first receipt handle is stale.
    await receiveOne(other);
    await consumer.publish(delivery());
    const kept = await receiveOne(consumer);

    const error = await consumer.keepAlive([lost, kept]).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'SQS_KEEPALIVE_FAILED', operation: 'keepAlive', queueUrl });
    const { failures } = error as { failures: { message: ReceivedMessage; error: unknown }[] };
    expect(failures).toHaveLength(1);
    expect(failures[0]?.message).toBe(lost);
    expect(failures[0]?.error).toMatchObject({
      code: 'SQS_BATCH_ENTRY_FAILED',
      awsCode: 'ReceiptHandleIsInvalid',
      messageId: lost.messageId,
    });
  });

  it('retryLater makes the message visible again after its delay, rounded up to whole seconds', async () => {
    const queueUrl = await createQueue();
    const consumer = backend(queueUrl);
    await consumer.publish(delivery());
    const message = await receiveOne(consumer);

    const retriedAt = Date.now();
    await consumer.retryLater(message, 1_200);
    expect(await backend(queueUrl, { waitTimeSeconds: 0 }).receive(10, running)).toEqual([]);

    const again = await receiveOne(consumer);
    // 1.2 s asked, 2 s granted: never earlier than asked.
    expect(Date.now() - retriedAt).toBeGreaterThanOrEqual(1_900);
    expect(again).toMatchObject({ messageId: message.messageId, deliveryCount: 2 });
  });

  it("caps a retry at what is left of SQS's 12 hours since the receive, instead of being refused", async () => {
    // The back end's clock says the message has been held for 11 h 59 min 59 s. (SQS refuses a
    // change past the 12 hours; the emulator does not check, so the cap shows as an early return.)
    let now = Date.now();
    const queueUrl = await createQueue();
    const consumer = backend(queueUrl, {}, { clock: { ...systemClock, now: () => now } });
    await consumer.publish(delivery());
    const message = await receiveOne(consumer);
    now += 12 * 3_600_000 - 1_000;

    const retriedAt = Date.now();
    await consumer.retryLater(message, 3_600_000);
    const again = await receiveOne(consumer);
    expect(again.messageId).toBe(message.messageId);
    expect(Date.now() - retriedAt).toBeLessThan(5_000);
  });

  it.each([
    { where: 'the configured dead-letter queue', configured: true },
    { where: "the redrive policy's target", configured: false },
  ])(
    'dead-letters into $where with the reason, and removes the message from the queue',
    async ({ configured }) => {
      const deadLetterUrl = await createQueue();
      const redrive = JSON.stringify({
        deadLetterTargetArn: await queueArn(deadLetterUrl),
        maxReceiveCount: 5,
      });
      const queueUrl = await createQueue(configured ? {} : { RedrivePolicy: redrive });
      const queue = backend(queueUrl, configured ? { deadLetterQueueUrl: deadLetterUrl } : {});
      const sent = delivery({ event: 'push' });
      await queue.publish(sent);
      const message = await receiveOne(queue);

      await queue.deadLetter(message, 'payload fails the schema: no repository');

      const dead = await receiveOne(backend(deadLetterUrl));
      expect(dead).toMatchObject({
        deliveryId: sent.deliveryId,
        body: sent.body,
        attributes: {
          event: 'push',
          [DEAD_REASON_ATTRIBUTE]: 'payload fails the schema: no repository',
          [RECEIVE_COUNT_ATTRIBUTE]: '1',
          [SOURCE_MESSAGE_ID_ATTRIBUTE]: message.messageId,
        },
      });
      expect(await queue.stats()).toMatchObject({ depth: 0, deadLetterDepth: { known: true, value: 1 } });
    },
  );

  it('refuses to dead-letter when there is no dead-letter queue at all, and keeps the message', async () => {
    const queueUrl = await createQueue();
    const queue = backend(queueUrl);
    await queue.publish(delivery());
    const message = await receiveOne(queue);

    await expect(queue.deadLetter(message, 'poison')).rejects.toMatchObject({
      code: 'SQS_NO_DEAD_LETTER_QUEUE',
      queueUrl,
      messageId: message.messageId,
    });
    expect(await queue.stats()).toMatchObject({ inFlight: 1, depth: 1 });
  });

  it('reports the one entry SQS refuses in a batch delete, and deletes the others', async () => {
    const refused = new Set<string>();
    const queueUrl = await createQueue();
    const queue = backend(
      queueUrl,
      {},
      { createClient: (config) => refusingDeletes(createSqsClient(config), refused) },
    );
    await Promise.all([1, 2, 3].map(() => queue.publish(delivery())));
    const messages = await receiveAll(queue, 3);
    const [, victim] = messages;
    if (!victim) throw new Error('three messages were received');
    refused.add(victim.receipt);

    const failures = await queue.ack(messages);
    expect(failures.map((f) => f.message)).toEqual([victim]);
    expect(failures[0]?.error).toMatchObject({
      code: 'SQS_BATCH_ENTRY_FAILED',
      awsCode: 'ReceiptHandleIsInvalid',
      queueUrl,
      messageId: victim.messageId,
    });
    expect(await queue.stats()).toMatchObject({ visible: 0, inFlight: 1, depth: 1 });
  });

  it('counts visible, in-flight and delayed messages in the depth, and the dead-letter queue apart', async () => {
    const deadLetterUrl = await createQueue();
    const queueUrl = await createQueue();
    const queue = backend(queueUrl, { deadLetterQueueUrl: deadLetterUrl });
    await queue.publish(delivery());
    await queue.publish(delivery());
    await receiveAll(queue, 1, 1);
    await admin.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'later', DelaySeconds: 60 }));
    await admin.send(new SendMessageCommand({ QueueUrl: deadLetterUrl, MessageBody: 'dead' }));

    expect(await queue.stats()).toEqual({
      kind: 'sqs',
      queueUrl,
      visible: 1,
      inFlight: 1,
      delayed: 1,
      depth: 3,
      deadLetterDepth: { known: true, value: 1 },
    });
  });

  it('reports the dead-letter depth as unknown, never 0, when there is no dead-letter queue', async () => {
    const stats = await backend(await createQueue()).stats();
    expect(stats.deadLetterDepth).toEqual({
      known: false,
      reason: 'no dead-letter queue: neither SQS_DLQ_URL nor a redrive policy',
    });
  });

  it('refuses a FIFO queue, with the reason, before sending anything', async () => {
    const fifoUrl = await createQueue({ FifoQueue: 'true' }, '.fifo');
    expect(() => backend(fifoUrl)).toThrow(
      expect.objectContaining({ code: 'SQS_FIFO_QUEUE', queueUrl: fifoUrl }),
    );
    expect(() => backend(fifoUrl)).toThrow(
      'FIFO queues are not supported: consuming SQS and Redis side by side cannot keep per-group order',
    );
  });

  it('verify reports retention, visibility timeout, redrive policy and dead-letter queue for the preflight', async () => {
    const deadLetterUrl = await createQueue();
    const deadLetterArn = await queueArn(deadLetterUrl);
    const queueUrl = await createQueue({
      MessageRetentionPeriod: '86400',
      VisibilityTimeout: '45',
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: deadLetterArn, maxReceiveCount: 3 }),
    });

    const profile = await backend(queueUrl, { maxDeliveries: 5 }).verify();
    expect(profile).toEqual({
      queueUrl,
      queueArn: await queueArn(queueUrl),
      retentionSeconds: 86_400,
      visibilityTimeoutSeconds: 45,
      redrivePolicy: { deadLetterTargetArn: deadLetterArn, maxReceiveCount: 3 },
      deadLetterQueue: { url: deadLetterUrl, arn: deadLetterArn },
      warnings: [expect.objectContaining({ code: 'SQS_REDRIVE_BEFORE_MAX_DELIVERIES' })],
    });
  });

  it('verify fails, naming the queue, when it does not exist', async () => {
    const missing = `${sqs.endpoint}/000000000000/sqs-backend-missing-${randomUUID()}`;
    await expect(backend(missing).verify()).rejects.toMatchObject({
      code: 'SQS_QUEUE_NOT_FOUND',
      operation: 'verify',
      queueUrl: missing,
    });
  });

  it('close ends a long poll in progress and refuses calls after it', async () => {
    const queue = backend(await createQueue(), { waitTimeSeconds: 20 });
    const started = Date.now();
    const polling = queue.receive(10, running);
    await queue.close();
    expect(await polling).toEqual([]);
    expect(Date.now() - started).toBeLessThan(2_000);
    await expect(queue.publish(delivery())).rejects.toMatchObject({ code: 'SQS_CLOSED' });
  });
});

describe('SqsBackend when SQS does not answer', () => {
  it('a closed port: publish rejects within its budget and ping fails', async () => {
    const nowhere = `http://127.0.0.1:${await freePort()}`;
    const queue = backend(`${nowhere}/000000000000/sqs-backend-unreachable`, { endpoint: nowhere });
    const started = Date.now();
    await expect(queue.publish(delivery(), AbortSignal.timeout(2_000))).rejects.toMatchObject({
      operation: 'publish',
      awsCode: 'ECONNREFUSED',
    });
    expect(Date.now() - started).toBeLessThan(2_000);
    await expect(queue.ping()).rejects.toMatchObject({ code: 'SQS_REQUEST_FAILED', operation: 'ping' });
  });

  it('a stopped emulator: publish rejects when its signal aborts, ping and ack fail; all recover after', async () => {
    const queueUrl = await createQueue();
    const queue = backend(queueUrl, {}, { requestTimeoutMs: 1_000 });
    await queue.publish(delivery());
    const held = await receiveOne(queue);
    const pid = daemonPid(environment(), sqs.daemon);

    const started = Date.now();
    const outcome = await whileStopped(pid, () =>
      Promise.allSettled([
        queue.publish(delivery(), AbortSignal.timeout(1_000)),
        queue.ping(),
        queue.ack([held]),
      ]),
    );
    const elapsed = Date.now() - started;

    expect(outcome).not.toBe(STILL_WAITING);
    const [publish, ping, ack] = outcome === STILL_WAITING ? [] : outcome;
    expect(publish).toMatchObject({ status: 'rejected', reason: { code: 'SQS_ABORTED', queueUrl } });
    expect(ping).toMatchObject({ status: 'rejected', reason: { code: 'SQS_TIMEOUT', operation: 'ping' } });
    expect(ack).toMatchObject({
      status: 'fulfilled',
      value: [{ message: held, error: { code: 'SQS_TIMEOUT' } }],
    });
    expect(elapsed).toBeGreaterThanOrEqual(990);
    expect(elapsed).toBeLessThan(2_500);

    await waitUntil(() => queue.ping().then(() => true), { what: 'the emulator to answer again' });
    await queue.publish(delivery());
    expect(await queue.ack([held])).toEqual([]);
  });
});

const STILL_WAITING = 'still waiting' as const;

/**
 * Runs `action` while the emulator is stopped (SIGSTOP: it accepts connections and answers
 * nothing, as a hung server does). Other tests share the emulator, so it is resumed within 5 s
 * even if `action` never settles; `STILL_WAITING` says that happened.
 */
async function whileStopped<T>(pid: number, action: () => Promise<T>): Promise<T | typeof STILL_WAITING> {
  process.kill(pid, 'SIGSTOP');
  try {
    return await Promise.race([action(), sleep(5_000, STILL_WAITING)]);
  } finally {
    process.kill(pid, 'SIGCONT');
  }
}

/**
 * fauxqs confirms every DeleteMessageBatch entry, even one whose receipt handle it does not know,
 * where SQS answers ReceiptHandleIsInvalid for that entry alone. That fault cannot be produced with
 * the emulator, so this middleware plays SQS's part for the receipts in `refused`: it keeps them out
 * of the request and reports them as failed entries, the way SQS does.
 */
function refusingDeletes(client: SQSClient, refused: ReadonlySet<string>): SQSClient {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName !== 'DeleteMessageBatchCommand') return next(args);
      const input = args.input as DeleteMessageBatchCommandInput;
      const entries = input.Entries ?? [];
      const result = await next({
        ...args,
        input: { ...input, Entries: entries.filter((e) => !refused.has(e.ReceiptHandle ?? '')) },
      });
      const output = result.output as DeleteMessageBatchCommandOutput;
      output.Failed = [
        ...(output.Failed ?? []),
        ...entries
          .filter((e) => refused.has(e.ReceiptHandle ?? ''))
          .map((e) => ({
            Id: e.Id,
            SenderFault: true,
            Code: 'ReceiptHandleIsInvalid',
            Message: 'The input receipt handle is invalid.',
          })),
      ];
      return result;
    },
    { step: 'initialize', name: 'refusingDeletes' },
  );
  return client;
}
