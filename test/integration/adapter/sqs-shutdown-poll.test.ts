import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ConsumerConfig } from '../../../src/adapter/config.ts';
import { waitUntil } from '../../env/wait.ts';
import { commitToLedger, startConsumer, type RunningConsumer } from './fixtures/consumer-harness.ts';
import { publishAll } from './fixtures/publish.ts';
import { TestQueues } from './fixtures/test-queues.ts';

/** Long enough that a message hidden by a lost receive would clearly miss the test's deadline. */
const VISIBILITY_SECONDS = 30;
/** A long poll that is still open on the server when its consumer stops. */
const WAIT_SECONDS = 5;

/**
 * A worker stopping (SIGTERM in a rollout) while its long poll is open on SQS. SQS cannot be told to
 * end a poll: one cut off on the client still takes the messages that arrive in its remaining wait
 * time, and they stayed invisible for the whole visibility timeout (and spent a receive) while the
 * other workers were idle. Seen as deliveries handled a minute late during the migration under load.
 */
describe('an SQS consumer stopping during a long poll', () => {
  let queues: TestQueues;
  const consumers: RunningConsumer[] = [];

  beforeEach(async () => {
    queues = await TestQueues.create('sqs');
  });

  afterEach(async () => {
    await Promise.all(consumers.splice(0).map((consumer) => consumer.stop()));
    await queues.cleanup();
  });

  function consumer(): RunningConsumer {
    const base = queues.consumerConfig();
    const config: ConsumerConfig = {
      ...base,
      sqs: {
        ...queues.sqsConfig(),
        waitTimeSeconds: WAIT_SECONDS,
        visibilityTimeoutSeconds: VISIBILITY_SECONDS,
      },
    };
    const running = startConsumer(config, async (_message, ctx) => {
      await commitToLedger(ctx, queues.names.ledgerKey);
      return { kind: 'ack' };
    });
    consumers.push(running);
    return running;
  }

  it('hands back what the poll still receives, so another consumer handles it at once', async () => {
    const stopping = consumer();
    // Its first long poll is open on the empty queue.
    await waitUntil(async () => (await queues.backlog()) === 0, { what: 'the queue to be empty' });
    const stopped = stopping.stop();
    const ids = Array.from({ length: 5 }, () => randomUUID());
    // Published while the stopped consumer's poll is still waiting on the server.
    await publishAll(queues.producerConfigs(), ids);
    await stopped;
    consumer();

    await waitUntil(async () => (await queues.ledger()).size === ids.length, {
      what: `all ${ids.length} deliveries handled by the other consumer`,
      timeoutMs: (VISIBILITY_SECONDS * 1_000) / 2,
    });
    expect([...(await queues.ledger()).keys()].sort()).toEqual([...ids].sort());
  });
});
