import { EventEmitter } from 'node:events';
import { systemClock, type Clock } from '../clock.ts';
import type { BackendKind, OutgoingMessage, QueueBackend } from '../types.ts';
import { PublishError, type PublishRefusal } from './publish-error.ts';

export interface PublishResult {
  backend: BackendKind;
  messageId: string;
  usedFallback: boolean;
}

/** What the webhook counts: every publish, and every refusal (a primary refusal means a fallback). */
export interface ProducerEvents {
  published: [{ deliveryId: string; result: PublishResult; durationMs: number }];
  refused: [{ deliveryId: string; refusal: PublishRefusal }];
}

export interface ProducerOptions {
  primary: QueueBackend;
  /** Used when the primary refuses; the operator sets one while both queues are live. */
  fallback?: QueueBackend;
  /** Budget of one publish, the fallback attempt included. */
  publishTimeoutMs: number;
  /** Default: the system clock. */
  clock?: Clock;
}

/**
 * Publishes within a time budget, to the primary back end or, when it refuses, to the fallback.
 * With a fallback configured the primary gets half the budget, so that a primary that hangs still
 * leaves the fallback time to answer.
 */
export class Producer extends EventEmitter<ProducerEvents> {
  private readonly primary: QueueBackend;
  private readonly fallback: QueueBackend | undefined;
  private readonly publishTimeoutMs: number;
  private readonly clock: Clock;

  constructor(options: ProducerOptions) {
    super();
    this.primary = options.primary;
    this.fallback = options.fallback;
    this.publishTimeoutMs = options.publishTimeoutMs;
    this.clock = options.clock ?? systemClock;
  }

  /** Resolves once a back end accepted the message; rejects with a `PublishError` otherwise. */
  async publish(message: OutgoingMessage, signal?: AbortSignal): Promise<PublishResult> {
    const started = this.clock.now();
    const deadline = started + this.publishTimeoutMs;
    const primaryBudget = this.fallback === undefined ? this.publishTimeoutMs : this.publishTimeoutMs / 2;
    const refusals: PublishRefusal[] = [];
    for (const [backend, budgetMs] of [
      [this.primary, primaryBudget],
      [this.fallback, deadline - started - primaryBudget],
    ] as const) {
      if (backend === undefined) break;
      const remainingMs = Math.min(budgetMs, deadline - this.clock.now());
      const attempt = await this.attempt(backend, message, remainingMs, signal);
      if ('refusal' in attempt) {
        refusals.push(attempt.refusal);
        this.emit('refused', { deliveryId: message.deliveryId, refusal: attempt.refusal });
        if (signal?.aborted) break;
        continue;
      }
      const result = {
        backend: backend.kind,
        messageId: attempt.messageId,
        usedFallback: backend !== this.primary,
      };
      this.emit('published', {
        deliveryId: message.deliveryId,
        result,
        durationMs: this.clock.now() - started,
      });
      return result;
    }
    throw new PublishError(message.deliveryId, refusals);
  }

  /**
   * A producer is ready when a back end it publishes to answers: the primary, or else the
   * fallback. Were a primary outage to make every pod unready, the Service would send GitHub's
   * deliveries nowhere, though the fallback could take them.
   */
  async ready(): Promise<void> {
    // Both at once: a primary that hangs must not use up the time a probe gives the fallback.
    const backends = this.fallback === undefined ? [this.primary] : [this.primary, this.fallback];
    try {
      await Promise.any(backends.map((backend) => backend.ping()));
    } catch (error) {
      throw (error as AggregateError).errors[0] ?? error;
    }
  }

  async close(): Promise<void> {
    await Promise.all([this.primary.close(), this.fallback?.close()]);
  }

  /**
   * One back end's try within `budgetMs`. The budget holds even against a back end that ignores its
   * signal: the attempt ends when the budget or the caller's signal does, whatever the back end does.
   */
  private attempt(
    backend: QueueBackend,
    message: OutgoingMessage,
    budgetMs: number,
    signal: AbortSignal | undefined,
  ): Promise<{ messageId: string } | { refusal: PublishRefusal }> {
    const refusal = (error: Error, timedOut: boolean): { refusal: PublishRefusal } => ({
      refusal: { backend: backend.kind, error, timedOut },
    });
    if (budgetMs <= 0) {
      return Promise.resolve(refusal(new Error('no time left in the publish budget'), true));
    }
    // One controller and one timer per attempt; nothing else per publish (this runs per webhook).
    return new Promise((resolve) => {
      const controller = new AbortController();
      const end = (result: { messageId: string } | { refusal: PublishRefusal }): void => {
        timer.cancel();
        signal?.removeEventListener('abort', onCallerAbort);
        resolve(result);
      };
      const giveUp = (reason: Error, timedOut: boolean): void => {
        if (controller.signal.aborted) return;
        controller.abort(reason);
        end(refusal(reason, timedOut));
      };
      const timer = this.clock.schedule(budgetMs, () => {
        giveUp(new DOMException(`timed out after ${budgetMs} ms`, 'TimeoutError'), true);
      });
      const onCallerAbort = (): void => {
        giveUp(asError(signal?.reason), false);
      };
      if (signal?.aborted) onCallerAbort();
      else signal?.addEventListener('abort', onCallerAbort, { once: true });
      backend.publish(message, controller.signal).then(
        (accepted) => {
          if (!controller.signal.aborted) end(accepted);
        },
        (error: unknown) => {
          if (!controller.signal.aborted) end(refusal(asError(error), false));
        },
      );
    });
  }
}

function asError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}
