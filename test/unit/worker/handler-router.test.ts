import { describe, expect, it } from 'vitest';
import type { HandlerContext, Outcome, ReceivedMessage } from '../../../src/adapter/index.ts';
import { CommitTransaction } from '../../../src/adapter/idempotency/commit-transaction.ts';
import { encodeEnvelope } from '../../../src/webhook/envelope.ts';
import type { HandlerModule } from '../../../src/worker/handler-module.ts';
import { handlerRoutes, routeByEvent } from '../../../src/worker/handler-router.ts';
import type { WebhookHandler } from '../../../src/worker/webhook-handler.ts';

const LEDGER = 'test:ledger';

function message(event: string, deliveryId = `d-${event}`, body?: string): ReceivedMessage {
  return {
    deliveryId,
    body:
      body ?? encodeEnvelope({ deliveryId, event, receivedAt: '2026-11-26T05:00:00.000Z' }, '{"zen":"hi"}'),
    backend: 'redis',
    receipt: '1-0',
    messageId: '1-0',
    deliveryCount: 1,
    enqueuedAt: 0,
  };
}

/** A handler context whose commit builds a real transaction and keeps it, instead of writing it. */
class RecordingContext implements HandlerContext {
  readonly deliveryId: string;
  readonly signal = new AbortController().signal;
  readonly commits: CommitTransaction[] = [];

  constructor(deliveryId: string) {
    this.deliveryId = deliveryId;
  }

  commit(build: (tx: CommitTransaction) => void): Promise<void> {
    const tx = new CommitTransaction(this.deliveryId);
    build(tx);
    this.commits.push(tx);
    return Promise.resolve();
  }
}

/** Which handler took a delivery, and with what. */
async function handle(
  module: HandlerModule | undefined,
  received: ReceivedMessage,
): Promise<{
  outcome: Outcome;
  ctx: RecordingContext;
}> {
  const ctx = new RecordingContext(received.deliveryId);
  const outcome = await routeByEvent(handlerRoutes(LEDGER, module))(received, ctx);
  return { outcome, ctx };
}

const userHandler: WebhookHandler = (envelope) =>
  Promise.resolve({
    kind: 'dead',
    reason: `user handler took ${envelope.event}: ${JSON.stringify(envelope.payload)}`,
  });

describe('handlers chosen by event', () => {
  it('ping: succeeds with no side effect', async () => {
    expect(await handle(undefined, message('ping'))).toMatchObject({
      outcome: { kind: 'ack' },
      ctx: { commits: [] },
    });
  });

  it('without a handler module, everything else goes to the ledger: one HINCRBY in the commit', async () => {
    const { outcome, ctx } = await handle(undefined, message('push'));

    expect(outcome).toEqual({ kind: 'ack' });
    expect(ctx.commits.map((tx) => tx.operations)).toEqual([
      [{ command: 'hincrby', key: LEDGER, args: ['d-push', '1'] }],
    ]);
  });

  it('a module without `events` takes every event but ping, with the decoded envelope', async () => {
    const module = { handler: userHandler };

    expect((await handle(module, message('issues'))).outcome).toEqual({
      kind: 'dead',
      reason: 'user handler took issues: {"zen":"hi"}',
    });
    expect((await handle(module, message('ping'))).outcome).toEqual({ kind: 'ack' });
  });

  it('a module with `events` takes those; the rest still go to the ledger', async () => {
    const module = { handler: userHandler, events: ['issues'] };

    expect((await handle(module, message('issues'))).outcome.kind).toBe('dead');
    const other = await handle(module, message('push'));
    expect(other.outcome).toEqual({ kind: 'ack' });
    expect(other.ctx.commits).toHaveLength(1);
  });

  it.each([
    [
      'a body that is not an envelope',
      message('push', 'd-1', '{"not":"an envelope"}'),
      /not a webhook envelope/,
    ],
    [
      'an envelope of another delivery',
      { ...message('push', 'd-envelope'), deliveryId: 'd-message' },
      /delivery id d-envelope differs from the message's d-message/,
    ],
  ])('%s: dead at once, with the reason, no handler run', async (_name, received, reason) => {
    const { outcome, ctx } = await handle({ handler: userHandler }, received);

    expect(outcome).toEqual({ kind: 'dead', reason: expect.stringMatching(reason) as string });
    expect(ctx.commits).toEqual([]);
  });
});
