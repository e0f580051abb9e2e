import { EventEmitter } from 'node:events';
import { systemClock, timeoutSignal, type Clock } from '../clock.ts';
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

  private async attempt(
    backend: QueueBackend,
    message: OutgoingMessage,
    budgetMs: number,
    signal: AbortSignal | undefined,
  ): Promise<{ messageId: string } | { refusal: PublishRefusal }> {
    if (budgetMs <= 0) {
      const error = new Error('no time left in the publish budget');
      return { refusal: { backend: backend.kind, error, timedOut: true } };
    }
    const timeout = timeoutSignal(this.clock, budgetMs);
    const attemptSignal = signal === undefined ? timeout.signal : AbortSignal.any([signal, timeout.signal]);
    // The budget holds even against a back end that ignores its signal.
    let onAbort = (): void => undefined;
    const abandoned = new Promise<never>((_, reject) => {
      onAbort = () => {
        reject(attemptSignal.reason as Error);
      };
      if (attemptSignal.aborted) onAbort();
      else attemptSignal.addEventListener('abort', onAbort, { once: true });
    });
    try {
      return await Promise.race([backend.publish(message, attemptSignal), abandoned]);
    } catch (error) {
      const reason = error instanceof Error ? error : new Error(String(error));
      return { refusal: { backend: backend.kind, error: reason, timedOut: timeout.signal.aborted } };
    } finally {
      timeout.cancel();
      attemptSignal.removeEventListener('abort', onAbort);
    }
  }
}
