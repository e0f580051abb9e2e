import { GetQueueAttributesCommand, type QueueAttributeName, type SQSClient } from '@aws-sdk/client-sqs';
import type { Clock } from '../clock.ts';
import type { QueueAttributes } from './queue-attributes.ts';
import { requestError } from './request-error.ts';
import { RequestSignals } from './request-signals.ts';
import { SqsError, type SqsErrorContext } from './sqs-error.ts';

export interface RequestLimits {
  /** The caller's own budget (a publish's), on top of the request's. */
  caller?: AbortSignal | undefined;
  /** Default: the budget the requests were built with. */
  timeoutMs?: number;
}

/**
 * The one way the back end talks to SQS. Every request gets one abort signal (the caller's,
 * its time budget, close()) and fails with one error shape naming the operation, the queue and
 * SQS's code. Owns the SDK client.
 */
export class SqsRequests {
  readonly #client: SQSClient;
  readonly #signals: RequestSignals;
  readonly timeoutMs: number;

  constructor(client: SQSClient, clock: Clock, timeoutMs: number) {
    this.#client = client;
    this.#signals = new RequestSignals(clock);
    this.timeoutMs = timeoutMs;
  }

  async send<T>(
    context: SqsErrorContext,
    request: (client: SQSClient, signal: AbortSignal) => Promise<T>,
    limits: RequestLimits = {},
  ): Promise<T> {
    if (this.#signals.closed) throw new SqsError('SQS_CLOSED', context, 'the back end is closed');
    const timeoutMs = limits.timeoutMs ?? this.timeoutMs;
    const scope = this.#signals.open({ caller: limits.caller, timeoutMs });
    try {
      return await request(this.#client, scope.signal);
    } catch (error) {
      throw requestError(error, context, scope.abortCause, timeoutMs);
    } finally {
      scope.end();
    }
  }

  /** GetQueueAttributes of the queue `context` names. */
  async attributes(context: SqsErrorContext, names: readonly QueueAttributeName[]): Promise<QueueAttributes> {
    const answer = await this.send(context, (client, abortSignal) =>
      client.send(new GetQueueAttributesCommand({ QueueUrl: context.queueUrl, AttributeNames: [...names] }), {
        abortSignal,
      }),
    );
    return answer.Attributes ?? {};
  }

  /** Aborts requests in flight (a long poll included) and releases the client's sockets. */
  close(): void {
    if (this.#signals.closed) return;
    this.#signals.closeAll();
    this.#client.destroy();
  }
}
