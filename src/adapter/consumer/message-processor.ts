import type { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { WorkerPoolConfig } from '../config.ts';
import type { IdempotencyStore, Lease } from '../idempotency/idempotency-store.ts';
import type { Outcome, QueueBackend, ReceivedMessage } from '../types.ts';
import type { AckBatcher } from './ack-batcher.ts';
import type { BackoffPolicy } from './backoff.ts';
import type { Clock } from '../clock.ts';
import { ConsumerError, type ConsumerErrorCode } from './consumer-error.ts';
import type { ConsumerEvents } from './consumer-events.ts';
import { DeliveryContext, type CommitState } from './delivery-context.ts';
import { markDoneUntilLanded } from './done-marker.ts';
import type { Handler } from './handler.ts';
import type { KeepAliveLoop } from './keep-alive-loop.ts';
import { LeaseRenewer } from './lease-renewer.ts';
import { settlementFor, type AttemptResult } from './settlement.ts';

/** The back end a message came from, as the processor needs it. */
export interface MessageSource {
  backend: QueueBackend;
  maxDeliveries: number;
  acks: AckBatcher;
  /** Called before a message is settled: its heartbeat must not cross the settlement. */
  heartbeat: Pick<KeepAliveLoop, 'release'>;
}

export interface MessageProcessorOptions {
  store: IdempotencyStore;
  handler: Handler;
  clock: Clock;
  workers: Pick<WorkerPoolConfig, 'handlerTimeoutMs' | 'defaultRetryDelayMs'>;
  /** Back-off of done-mark retries while the idempotency store does not answer. */
  storeBackoff: BackoffPolicy;
  events: EventEmitter<ConsumerEvents>;
  logger: Logger;
  /**
   * Aborts when shutdown's grace is over: running handlers are interrupted (their messages are left
   * claimable) and done marks stop retrying.
   */
  abandon: AbortSignal;
  report: (error: ConsumerError) => void;
  /** The store failed a call that gates every message: the pool pauses fetching until it answers. */
  onStoreUnavailable: () => void;
}

type Ending = AttemptResult | { kind: 'abandoned' };

/** Ends a running attempt early: the handler's signal aborts with `reason`. */
type Interrupt = (ending: Ending, reason: string) => void;

const OUTCOME_KINDS = new Set(['ack', 'retry', 'dead']);

const threw = (error: unknown): AttemptResult => ({ kind: 'threw', error });

/** Handlers written in plain JavaScript can return anything; what is not an outcome counts as a throw. */
function checked(outcome: Outcome): AttemptResult {
  const valid =
    typeof outcome === 'object' &&
    OUTCOME_KINDS.has(outcome.kind) &&
    (outcome.kind !== 'retry' || (Number.isFinite(outcome.delayMs) && outcome.delayMs >= 0));
  return valid
    ? { kind: 'outcome', outcome }
    : { kind: 'threw', error: new Error(`the handler returned ${JSON.stringify(outcome)}, not an outcome`) };
}

/**
 * Takes one message from receipt to its settlement (DESIGN.md §1): delivery limit, lease, handler
 * under renewal and timeout, then done mark and acknowledgement, retry, or dead letter.
 */
export class MessageProcessor {
  private readonly options: MessageProcessorOptions;
  /** The attempts whose handlers are running, interrupted together when shutdown abandons them. */
  private readonly running = new Set<Interrupt>();

  constructor(options: MessageProcessorOptions) {
    this.options = options;
    // One listener for all attempts, rather than one added and removed per message.
    options.abandon.addEventListener(
      'abort',
      () => {
        for (const interrupt of this.running) interrupt({ kind: 'abandoned' }, 'shutdown grace is over');
      },
      { once: true },
    );
  }

  /** Never rejects: every failure is reported and leaves the message to come back. */
  async process(message: ReceivedMessage, source: MessageSource): Promise<void> {
    if (message.deliveryCount > source.maxDeliveries) {
      await this.overLimit(message, source);
      return;
    }
    let acquired;
    try {
      acquired = await this.options.store.acquire(message.deliveryId);
    } catch (error) {
      this.failed('CONSUMER_IDEMPOTENCY_UNAVAILABLE', 'could not take the lease', message, error);
      this.options.onStoreUnavailable();
      await this.retry(
        message,
        source,
        this.options.workers.defaultRetryDelayMs,
        'idempotency store unavailable',
      );
      return;
    }
    if (acquired.state === 'done') {
      this.options.events.emit('skipped', { message, reason: 'done' });
      await this.ack(message, source);
    } else if (acquired.state === 'held') {
      this.options.events.emit('skipped', { message, reason: 'held' });
      // Retrying before the holder's lease could expire would only spend a delivery.
      const delayMs = Math.max(acquired.remainingMs, this.options.workers.defaultRetryDelayMs);
      await this.retry(message, source, delayMs, 'another worker holds the lease');
    } else {
      await this.attempt(message, source, acquired.lease);
    }
  }

  /**
   * Hands back a message received but never started (shutdown): visible again at once in SQS,
   * claimable at once in the stream, instead of waiting out its reservation.
   */
  async giveBack(message: ReceivedMessage, source: MessageSource): Promise<void> {
    await this.retry(message, source, 0, 'the consumer shut down before starting it');
  }

  private async overLimit(message: ReceivedMessage, source: MessageSource): Promise<void> {
    let done = false;
    try {
      done = await this.options.store.isDone(message.deliveryId);
    } catch (error) {
      this.failed('CONSUMER_IDEMPOTENCY_UNAVAILABLE', 'could not check the done mark', message, error);
    }
    if (done) {
      this.options.events.emit('skipped', { message, reason: 'done' });
      await this.ack(message, source);
      return;
    }
    const reason = `exceeded ${source.maxDeliveries} deliveries without an outcome (handlers crashed or stalled)`;
    await this.deadLetter(message, source, reason);
  }

  private async attempt(message: ReceivedMessage, source: MessageSource, lease: Lease): Promise<void> {
    const { clock, workers, events, logger } = this.options;
    const started = clock.now();
    const { ending, commit } = await this.run(message, lease);
    if (ending.kind === 'abandoned') {
      // Shutdown's grace ran out: not acknowledged, left for another consumer to claim.
      await this.release(message, lease);
      return;
    }
    if (ending.kind === 'timed-out') {
      this.failed('CONSUMER_HANDLER_TIMEOUT', `the handler ran past ${ending.afterMs} ms`, message);
    } else if (ending.kind === 'threw') {
      this.failed('CONSUMER_HANDLER_FAILED', 'the handler threw', message, ending.error);
    } else if (ending.kind === 'lease-lost') {
      this.failed('CONSUMER_LEASE_LOST', 'another worker took the lease of a running handler', message);
    }
    const settlement = settlementFor({
      attempt: ending,
      commit,
      deliveryCount: message.deliveryCount,
      maxDeliveries: source.maxDeliveries,
      defaultRetryDelayMs: workers.defaultRetryDelayMs,
    });
    events.emit('handled', { message, settledAs: settlement.action, durationMs: clock.now() - started });
    switch (settlement.action) {
      case 'ack':
        if (settlement.note !== undefined) logger.warn({ deliveryId: message.deliveryId }, settlement.note);
        if (commit === 'committed') events.emit('done-marked', { message, via: 'commit' });
        if (settlement.markDone && !(await this.markDone(message, source, lease))) return;
        await this.ack(message, source);
        return;
      case 'retry':
        await this.release(message, lease);
        await this.retry(message, source, settlement.delayMs, settlement.reason);
        return;
      case 'dead':
        await this.deadLetter(message, source, settlement.reason);
        await this.release(message, lease);
        return;
    }
  }

  /** Runs the handler under lease renewal and the timeout; waits for a commit still in flight. */
  private async run(
    message: ReceivedMessage,
    lease: Lease,
  ): Promise<{ ending: Ending; commit: CommitState }> {
    const { store, clock, handler, workers, abandon } = this.options;
    const controller = new AbortController();
    let finish: (ending: Ending) => void = () => undefined;
    const ended = new Promise<Ending>((resolve) => {
      finish = resolve;
    });
    let over = false;
    const interrupt: Interrupt = (ending, reason) => {
      if (over) return;
      over = true;
      controller.abort(new Error(reason));
      finish(ending);
    };
    const renewer = new LeaseRenewer({
      store,
      lease,
      clock,
      onLost: () => {
        interrupt({ kind: 'lease-lost' }, 'lease lost to another worker');
      },
      onError: (error) => {
        this.failed('CONSUMER_IDEMPOTENCY_UNAVAILABLE', 'could not renew the lease', message, error);
      },
    });
    const timeout = clock.schedule(workers.handlerTimeoutMs, () => {
      interrupt({ kind: 'timed-out', afterMs: workers.handlerTimeoutMs }, 'handler timeout');
    });
    this.running.add(interrupt);
    if (abandon.aborted) interrupt({ kind: 'abandoned' }, 'shutdown grace is over');
    const context = new DeliveryContext(lease, store, controller.signal);
    renewer.start();
    try {
      let attempted: Promise<AttemptResult>;
      try {
        attempted = Promise.resolve(handler(message, context)).then(checked, threw);
      } catch (error) {
        attempted = Promise.resolve(threw(error));
      }
      void attempted.then((result) => {
        if (over) return;
        over = true;
        finish(result);
      });
      return { ending: await ended, commit: await context.commitState() };
    } finally {
      timeout.cancel();
      renewer.stop();
      this.running.delete(interrupt);
    }
  }

  /** True once the delivery is done (by this mark or already); false when the message was not settled. */
  private async markDone(message: ReceivedMessage, source: MessageSource, lease: Lease): Promise<boolean> {
    const { store, clock, storeBackoff, events, workers, abandon } = this.options;
    const result = await markDoneUntilLanded(lease, {
      store,
      clock,
      backoff: storeBackoff,
      signal: abandon,
      onError: (error, failures) => {
        this.failed(
          'CONSUMER_IDEMPOTENCY_UNAVAILABLE',
          `could not write the done mark (attempt ${failures}; retrying)`,
          message,
          error,
        );
      },
    });
    if (result === 'marked') events.emit('done-marked', { message, via: 'mark' });
    if (result === 'marked' || result === 'already-done') return true;
    if (result === 'lost') {
      this.failed(
        'CONSUMER_DONE_MARK_LOST',
        'the handler succeeded but another worker holds the lease; that worker will finish the delivery',
        message,
      );
      await this.retry(message, source, workers.defaultRetryDelayMs, 'another worker holds the lease');
    }
    return false;
  }

  private async ack(message: ReceivedMessage, source: MessageSource): Promise<void> {
    await source.heartbeat.release(message);
    try {
      await source.acks.ack(message);
      this.options.events.emit('acked', { message });
    } catch (error) {
      this.failed('CONSUMER_ACK_FAILED', 'could not acknowledge a done delivery', message, error);
    }
  }

  private async retry(
    message: ReceivedMessage,
    source: MessageSource,
    delayMs: number,
    reason: string,
  ): Promise<void> {
    await source.heartbeat.release(message);
    try {
      await source.backend.retryLater(message, delayMs);
      this.options.events.emit('retried', { message, delayMs, reason });
    } catch (error) {
      this.failed('CONSUMER_SETTLE_FAILED', `could not schedule a retry (${reason})`, message, error);
    }
  }

  private async deadLetter(message: ReceivedMessage, source: MessageSource, reason: string): Promise<void> {
    await source.heartbeat.release(message);
    try {
      await source.backend.deadLetter(message, reason);
      this.options.events.emit('dead-lettered', { message, reason });
    } catch (error) {
      this.failed('CONSUMER_SETTLE_FAILED', `could not dead-letter (${reason})`, message, error);
    }
  }

  /** A failed release only delays the next attempt until the lease expires by itself. */
  private async release(message: ReceivedMessage, lease: Lease): Promise<void> {
    try {
      await this.options.store.release(lease);
    } catch (error) {
      this.failed('CONSUMER_IDEMPOTENCY_UNAVAILABLE', 'could not release the lease', message, error);
    }
  }

  private failed(code: ConsumerErrorCode, what: string, message: ReceivedMessage, cause?: unknown): void {
    this.options.report(
      new ConsumerError(
        code,
        what,
        { backend: message.backend, messageId: message.messageId, deliveryId: message.deliveryId },
        cause === undefined ? undefined : { cause },
      ),
    );
  }
}
