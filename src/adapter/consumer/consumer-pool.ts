import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { WorkerPoolConfig } from '../config.ts';
import type { IdempotencyStore } from '../idempotency/idempotency-store.ts';
import type { QueueBackend, ReceivedMessage } from '../types.ts';
import { AckBatcher } from './ack-batcher.ts';
import { backoffDelay, type BackoffPolicy } from './backoff.ts';
import { pause, systemClock, type Clock } from '../clock.ts';
import { ConsumerError, type ConsumerErrorCode } from './consumer-error.ts';
import type { ConsumerEvents } from './consumer-events.ts';
import type { Handler } from './handler.ts';
import { KeepAliveLoop } from './keep-alive-loop.ts';
import { MessageProcessor, type MessageSource } from './message-processor.ts';
import { SlotBudget } from './slot-budget.ts';

export interface ConsumerSource {
  backend: QueueBackend;
  /** Server-side deliveries after which a message is dead-lettered without running its handler. */
  maxDeliveries: number;
  /** Heartbeat of held messages; well under the back end's visibility timeout / claim idle time. */
  keepAliveMs: number;
}

export interface ConsumerPoolOptions {
  /** One back end, or two for `dual`: they share the pool's slots. */
  sources: readonly ConsumerSource[];
  store: IdempotencyStore;
  handler: Handler;
  workers: WorkerPoolConfig;
  logger: Logger;
  /** Default: the system clock. */
  clock?: Clock;
  /** Back-off of failed fetches and idempotency-store retries. Default 100 ms doubling to 5 s. */
  backoff?: BackoffPolicy;
}

interface ActiveSource extends MessageSource, ConsumerSource {
  /** Keeps the messages received from this back end reserved until their settlement starts. */
  heartbeat: KeepAliveLoop;
}

interface Queued {
  message: ReceivedMessage;
  source: ActiveSource;
}

const DEFAULT_BACKOFF: BackoffPolicy = { initialMs: 100, maxMs: 5_000 };

/** Failures that mean a delivery may be handled twice or stalled: an operator should look. */
const SEVERE: ReadonlySet<ConsumerErrorCode> = new Set(['CONSUMER_DONE_MARK_LOST', 'CONSUMER_LEASE_LOST']);

/**
 * `workers.count` handler slots over one or two back ends (DESIGN.md §1 "Consumer"). Each back end
 * has a fetch loop that reserves free slots before it asks for messages; received messages wait in
 * one queue for a handler slot (at most `prefetch` of them), and `MessageProcessor` settles each.
 */
export class ConsumerPool extends EventEmitter<ConsumerEvents> {
  private readonly options: ConsumerPoolOptions;
  private readonly clock: Clock;
  private readonly backoff: BackoffPolicy;
  private readonly sources: ActiveSource[];
  private readonly budget: SlotBudget;
  private readonly processor: MessageProcessor;
  private readonly queue: Queued[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private readonly abandon = new AbortController();
  private running = 0;
  private started = false;
  private stopping = false;
  private storeUnavailable = false;

  constructor(options: ConsumerPoolOptions) {
    super();
    if (options.sources.length === 0) throw new RangeError('a consumer pool needs at least one back end');
    this.options = options;
    this.clock = options.clock ?? systemClock;
    this.backoff = options.backoff ?? DEFAULT_BACKOFF;
    const { workers } = options;
    this.sources = options.sources.map((source) => ({
      ...source,
      acks: new AckBatcher(source.backend, workers.batchSize),
      heartbeat: this.heartbeatOf(source),
    }));
    this.budget = new SlotBudget(workers.count + Math.min(workers.prefetch, workers.count), {
      clock: this.clock,
    });
    this.processor = new MessageProcessor({
      store: options.store,
      handler: options.handler,
      clock: this.clock,
      workers,
      storeBackoff: this.backoff,
      events: this,
      logger: options.logger,
      abandon: this.abandon.signal,
      report: (error) => {
        this.report(error);
      },
      onStoreUnavailable: () => {
        this.storeUnavailable = true;
      },
    });
  }

  /**
   * Consumes until `signal` aborts, then shuts down: stops fetching, gives back what never started,
   * lets running handlers finish within `shutdownGraceMs`, acknowledges what finished, and leaves
   * the rest claimable once its reservation runs out.
   */
  async run(signal: AbortSignal): Promise<void> {
    if (this.started) throw new Error('a consumer pool runs once; create another to consume again');
    this.started = true;
    for (const source of this.sources) source.heartbeat.start();
    try {
      await Promise.all(this.sources.map((source) => this.fetchLoop(source, signal)));
      await this.shutdown();
    } finally {
      for (const source of this.sources) source.heartbeat.stop();
    }
  }

  /** The idempotency store and at least one back end answer. */
  async ready(): Promise<void> {
    await this.options.store.ping();
    await Promise.any(this.sources.map((source) => source.backend.ping()));
  }

  /** Closes the back ends and the store; call after `run` resolved. */
  async close(): Promise<void> {
    await Promise.all([...this.sources.map((source) => source.backend.close()), this.options.store.close()]);
  }

  private heartbeatOf(source: ConsumerSource): KeepAliveLoop {
    const heartbeat: KeepAliveLoop = new KeepAliveLoop({
      backend: source.backend,
      intervalMs: source.keepAliveMs,
      clock: this.clock,
      onError: (error) => {
        this.report(
          new ConsumerError(
            'CONSUMER_KEEPALIVE_FAILED',
            `could not keep ${heartbeat.size} messages reserved`,
            { backend: source.backend.kind },
            { cause: error },
          ),
        );
      },
    });
    return heartbeat;
  }

  private async fetchLoop(source: ActiveSource, signal: AbortSignal): Promise<void> {
    const { workers } = this.options;
    // A fetch takes at most this loop's share of the slots: in dual, a loop whose back end is idle
    // must not sit on every free slot for a whole poll. Fetching only half the share, so that one
    // batch is handled while the next is read, cost more than it saved: each batch pays a write and
    // a wake-up on each of its four round trips (read, leases, done marks, ack). Measured on a busy
    // 2-core host with 50 slots: a socket write per ~7 messages instead of ~12, and about 1.5x the
    // CPU per message.
    const request = Math.min(workers.batchSize, Math.ceil(this.budget.capacity / this.sources.length));
    // Under load, wait for half a batch of free slots rather than fetch a message or two per freed slot.
    const lowWater = Math.ceil(request / 2);
    let failures = 0;
    while (!signal.aborted) {
      await this.waitForStore(source, signal);
      const reserved = await this.budget.reserve(request, signal, lowWater);
      if (reserved === 0) break;
      let messages: ReceivedMessage[];
      try {
        messages = await source.backend.receive(reserved, signal);
        failures = 0;
      } catch (error) {
        this.budget.settle(reserved, 0);
        failures += 1;
        this.report(
          new ConsumerError(
            'CONSUMER_RECEIVE_FAILED',
            `fetch failed (${failures} in a row)`,
            { backend: source.backend.kind },
            { cause: error },
          ),
        );
        await pause(this.clock, backoffDelay(this.backoff, failures), signal);
        continue;
      }
      this.budget.settle(reserved, messages.length);
      for (const message of messages) {
        source.heartbeat.keep(message);
        this.queue.push({ message, source });
        this.emit('received', { message });
      }
      this.startHandlers();
    }
  }

  /**
   * While the idempotency store is down every message would only be retried, spending one of its
   * deliveries each time: fetch nothing until the store answers again.
   */
  private async waitForStore(source: ActiveSource, signal: AbortSignal): Promise<void> {
    for (let failures = 0; this.storeUnavailable && !signal.aborted;) {
      try {
        await this.options.store.ping();
        this.storeUnavailable = false;
      } catch (error) {
        failures += 1;
        this.report(
          new ConsumerError(
            'CONSUMER_IDEMPOTENCY_UNAVAILABLE',
            `fetching paused until the idempotency store answers (${failures} failed checks)`,
            { backend: source.backend.kind },
            { cause: error },
          ),
        );
        await pause(this.clock, backoffDelay(this.backoff, failures), signal);
      }
    }
  }

  private startHandlers(): void {
    while (!this.stopping && this.running < this.options.workers.count) {
      const next = this.queue.shift();
      if (next === undefined) return;
      this.running += 1;
      const over = (): void => {
        this.running -= 1;
        this.finished(next);
        this.inFlight.delete(task);
        this.startHandlers();
      };
      const task = this.processor.process(next.message, next.source).then(over, (error: unknown) => {
        // process() reports every failure itself; reaching this is a bug, and the message comes back.
        this.options.logger.error(
          { err: error, deliveryId: next.message.deliveryId },
          'message processing crashed',
        );
        over();
      });
      this.inFlight.add(task);
    }
  }

  /** Also for messages left unsettled (shutdown's grace ran out): they are no longer kept reserved. */
  private finished({ message, source }: Queued): void {
    void source.heartbeat.release(message);
    this.budget.release();
  }

  private async shutdown(): Promise<void> {
    this.stopping = true;
    const { logger, workers } = this.options;
    const unstarted = this.queue.splice(0);
    if (unstarted.length > 0) {
      logger.info({ messages: unstarted.length }, 'shutdown: giving back messages that never started');
    }
    const givenBack = Promise.all(
      unstarted.map(async (queued) => {
        await this.processor.giveBack(queued.message, queued.source);
        this.finished(queued);
      }),
    );
    const graceOver = new AbortController();
    const allSettled = Promise.all(this.inFlight);
    await Promise.race([allSettled, pause(this.clock, workers.shutdownGraceMs, graceOver.signal)]);
    graceOver.abort();
    if (this.inFlight.size > 0) {
      logger.warn(
        { handlers: this.inFlight.size, graceMs: workers.shutdownGraceMs },
        'shutdown: handlers still running after the grace; their messages are left claimable',
      );
      this.abandon.abort();
      await Promise.all(this.inFlight);
    }
    await givenBack;
    await Promise.all(this.sources.map((source) => source.acks.idle()));
  }

  private report(error: ConsumerError): void {
    const level = SEVERE.has(error.code) ? 'error' : 'warn';
    this.options.logger[level]({ err: error, code: error.code, ...error.context }, error.message);
    this.emit('failure', error);
  }
}
