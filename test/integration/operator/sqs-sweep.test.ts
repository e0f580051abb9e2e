import { randomUUID } from 'node:crypto';
import { CreateQueueCommand, DeleteQueueCommand } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import {
  RedisStreamsBackend,
  SqsBackend,
  type OutgoingMessage,
  type RedisStreamsConfig,
} from '../../../src/adapter/index.ts';
import { DEAD_LETTER_FIELDS, decodeEntry } from '../../../src/adapter/redis-streams/entry-codec.ts';
import { parseEntries } from '../../../src/adapter/redis-streams/stream-replies.ts';
import { DEFAULT_METRICS } from '../../../src/operator/analysis/metric-catalog.ts';
import { RedisProvider } from '../../../src/operator/analysis/providers/redis-provider.ts';
import { SqsToStreamSweeper } from '../../../src/operator/drain/sqs-to-stream-sweeper.ts';
import { systemClock } from '../../../src/adapter/clock.ts';
import { sqsClient } from '../../env/sqs.ts';
import { required } from '../../env/test-environment.ts';
import { waitUntil } from '../../env/wait.ts';
import { testLogger } from '../adapter/fixtures/consumer-harness.ts';
import { delivery } from '../adapter/fixtures/publish.ts';
import { receiveCount } from '../adapter/redis-streams-support.ts';
import { closing, useDrainFixture, type DrainFixture } from './drain-fixture.ts';

/** What a consumer decodes from an entry: the delivery as its producer published it. */
const published = ({ deliveryId, body, attributes }: OutgoingMessage): OutgoingMessage => ({
  deliveryId,
  body,
  ...(attributes !== undefined && { attributes }),
});

const setUp = useDrainFixture();

/** The operator's sweeper on this test's queue and stream, as queue-figures builds it. */
function sweeper(f: DrainFixture, stream: RedisStreamsConfig = f.queues.redisConfig('queueshift-operator')) {
  const backend = closing(f, new RedisStreamsBackend(stream, { logger: testLogger() }));
  return closing(
    f,
    new SqsToStreamSweeper({
      sqs: { ...f.queues.sqsConfig(), waitTimeSeconds: 1 },
      streamName: f.queues.names.stream,
      stream: () => backend,
      logger: testLogger(),
    }),
  );
}

/** Publishes `count` deliveries to SQS as a webhook on SQS does. */
async function publishToSqs(f: DrainFixture, count: number): Promise<OutgoingMessage[]> {
  const producer = closing(f, new SqsBackend(f.queues.sqsConfig(), { logger: testLogger() }));
  const messages = Array.from({ length: count }, () => delivery());
  await Promise.all(messages.map((m) => producer.publish(m)));
  return messages;
}

describe('the SQS → stream sweeper, against the SQS emulator and the stream Redis', () => {
  it('moves messages into the stream as the webhook publishes them, and dead letters into <stream>:dlq with their reasons', async () => {
    const f = await setUp();
    const sqs = closing(f, new SqsBackend(f.queues.sqsConfig(), { logger: testLogger() }));
    // A dead letter moved by the queue's redrive policy: received past maxReceiveCount, never settled.
    const [redriven] = await publishToSqs(f, 1);
    await f.queues.spendDeliveries(6);
    await waitUntil(
      async () => {
        const { deadLetterDepth } = await sqs.stats();
        return deadLetterDepth.known && deadLetterDepth.value === 1;
      },
      { what: 'the redrive policy to move a message to the DLQ', timeoutMs: 15_000 },
    );
    // A dead letter of a handler's explicit `dead` outcome, with its reason.
    const [dead] = await publishToSqs(f, 1);
    const [received] = await sqs.receive(1, new AbortController().signal);
    expect(received?.deliveryId).toBe(dead?.deliveryId);
    if (received === undefined) throw new Error('nothing received');
    await sqs.deadLetter(received, 'handler failed: boom');
    const live = await publishToSqs(f, 25);

    const sweep = sweeper(f);
    expect(await sweep.remainder()).toEqual({
      queue: { known: true, value: 25 },
      deadLetters: { known: true, value: 2 },
    });
    expect(await sweep.sweep(100)).toEqual({ moved: { fromQueue: 25, fromDeadLetterQueue: 2 } });
    expect(await sweep.remainder()).toEqual({
      queue: { known: true, value: 0 },
      deadLetters: { known: true, value: 0 },
    });

    // A worker of the group receives each swept message exactly as it was published to SQS.
    const worker = closing(f, new RedisStreamsBackend(f.queues.redisConfig(), { logger: testLogger() }));
    await worker.ensureGroup();
    const consumed = await receiveCount(worker, 25);
    const byId = (a: OutgoingMessage, b: OutgoingMessage) => a.deliveryId.localeCompare(b.deliveryId);
    expect(consumed.map(published).sort(byId)).toEqual(live.map(published).sort(byId));
    expect(await worker.receive(10, AbortSignal.timeout(500))).toEqual([]);

    // Dead letters went to <stream>:dlq, not to the live stream, with the reason SQS had for them.
    const entries = parseEntries(
      await f.redis.call('XRANGE', `${f.queues.names.stream}:dlq`, '-', '+'),
      `${f.queues.names.stream}:dlq`,
    );
    const letters = entries.map((entry) => {
      const fields = entry.fields ?? [];
      const decoded = decodeEntry(fields);
      return {
        message: decoded.ok ? decoded.message : decoded.problem,
        reason: fields[fields.indexOf(DEAD_LETTER_FIELDS.reason) + 1],
      };
    });
    expect(letters).toEqual(
      expect.arrayContaining([
        { message: published(dead as OutgoingMessage), reason: 'handler failed: boom' },
        {
          message: published(redriven as OutgoingMessage),
          reason: expect.stringMatching(/^moved from SQS DLQ after \d+ receives$/) as string,
        },
      ]),
    );
    expect(letters).toHaveLength(2);
  });

  it('moves at most the batch it is asked for', async () => {
    const f = await setUp();
    await publishToSqs(f, 25);
    const sweep = sweeper(f);
    expect(await sweep.sweep(10)).toEqual({ moved: { fromQueue: 10, fromDeadLetterQueue: 0 } });
    expect((await sweep.remainder()).queue).toEqual({ known: true, value: 15 });
    expect(await f.redis.xlen(f.queues.names.stream)).toBe(10);
  });

  it('leaves a message in SQS, visible at once, when Redis refuses it; a later sweep moves it once', async () => {
    const f = await setUp();
    const messages = await publishToSqs(f, 12);
    // A real refusal: an ACL user of this test's own that may not XADD.
    const user = `sweep-${randomUUID()}`;
    const password = randomUUID();
    await f.redis.call('ACL', 'SETUSER', user, 'on', `>${password}`, '~*', '&*', '+@all', '-xadd');
    f.closers.push(() => f.redis.call('ACL', 'DELUSER', user));
    const base = f.queues.redisConfig('queueshift-operator');
    const refused = sweeper(f, { ...base, connection: { ...base.connection, username: user, password } });
    const outcome = await refused.sweep(100);
    expect(outcome.moved).toEqual({ fromQueue: 0, fromDeadLetterQueue: 0 });
    expect(outcome.failure?.code).toBe('SQS_SWEEP_REDIS_REFUSED');
    expect(outcome.failure?.context.deliveryIds).toHaveLength(10);
    expect(outcome.failure?.message).toContain('NOPERM');
    // Given back at once rather than hidden for the visibility timeout.
    const stats = await closing(f, new SqsBackend(f.queues.sqsConfig(), { logger: testLogger() })).stats();
    expect({ visible: stats.visible, inFlight: stats.inFlight }).toEqual({ visible: 12, inFlight: 0 });

    await f.redis.call('ACL', 'SETUSER', user, '+xadd');
    expect(await refused.sweep(100)).toEqual({ moved: { fromQueue: 12, fromDeadLetterQueue: 0 } });
    const ids = parseEntries(await f.redis.call('XRANGE', f.queues.names.stream, '-', '+'), 'stream').map(
      (entry) =>
        (decodeEntry(entry.fields ?? []) as { ok: true; message: OutgoingMessage }).message.deliveryId,
    );
    expect(ids.sort()).toEqual(messages.map((m) => m.deliveryId).sort());
  });

  it('reports a queue without a DLQ as such, deletes the queue when asked, and then reports it gone', async () => {
    const f = await setUp();
    const admin = sqsClient(required('sqs'));
    f.closers.push(() => {
      admin.destroy();
      return Promise.resolve();
    });
    const { QueueUrl } = await admin.send(
      new CreateQueueCommand({ QueueName: `sweep-delete-${randomUUID()}` }),
    );
    if (QueueUrl === undefined) throw new Error('no queue URL');
    f.closers.push(() => admin.send(new DeleteQueueCommand({ QueueUrl })).catch(() => undefined));
    const stream = closing(f, new RedisStreamsBackend(f.queues.redisConfig(), { logger: testLogger() }));
    const sqs = { ...f.queues.sqsConfig(), queueUrl: QueueUrl };
    delete sqs.deadLetterQueueUrl;
    const sweep = closing(
      f,
      new SqsToStreamSweeper({
        sqs,
        streamName: f.queues.names.stream,
        stream: () => stream,
        logger: testLogger(),
      }),
    );
    expect(await sweep.remainder()).toEqual({ queue: { known: true, value: 0 }, deadLetters: 'none' });
    await sweep.deleteQueue();
    expect((await sweep.remainder()).queue).toBe('gone');
    // Deleting what is gone already is not an error: a retried deletion must not fail.
    await sweep.deleteQueue();
  });

  it('does not count dead letters it swept from SQS as dead-letter growth of the stream', async () => {
    const f = await setUp();
    const sqs = closing(f, new SqsBackend(f.queues.sqsConfig(), { logger: testLogger() }));
    await publishToSqs(f, 1);
    const [received] = await sqs.receive(1, new AbortController().signal);
    if (received === undefined) throw new Error('nothing received');
    await sqs.deadLetter(received, 'handler failed: boom');
    const stream = closing(f, new RedisStreamsBackend(f.queues.redisConfig(), { logger: testLogger() }));
    await stream.ensureGroup();
    const growth = DEFAULT_METRICS.filter((m) => m.name === 'redis-dead-letter-growth');
    const reading = async (importedDeadLetters: number) => {
      const provider = new RedisProvider({
        stats: () => stream.stats(),
        client: () => f.redis,
        stream: f.queues.names.stream,
        group: f.queues.names.group,
        clock: systemClock,
        timeoutMs: 5_000,
        importedDeadLetters,
      });
      const now = Date.now();
      const readings = await provider.measure(growth, {
        window: { start: now, end: now },
        readyConsumers: [],
      });
      return readings.get('redis-dead-letter-growth');
    };

    expect(await sweeper(f).sweep(10)).toEqual({ moved: { fromQueue: 0, fromDeadLetterQueue: 1 } });
    expect(await reading(1)).toMatchObject({ kind: 'value', value: 0 });
    // Without the sweep's count, the same dead letter reads as a failure of Redis consumers.
    expect(await reading(0)).toMatchObject({ kind: 'value', value: 1 });
  });
});
