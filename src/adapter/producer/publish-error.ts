import type { BackendKind } from '../types.ts';

/** One back end's refusal of a publish. */
export interface PublishRefusal {
  backend: BackendKind;
  error: Error;
  /** The attempt ran out of its share of the time budget (the back end may still have accepted it). */
  timedOut: boolean;
}

/**
 * Codes:
 * - `PUBLISH_REFUSED`: the back end refused or did not answer within the budget, and no fallback is
 *   configured.
 * - `PUBLISH_REFUSED_BY_BOTH`: the primary and then the fallback refused; `refusals` holds both causes.
 * Either way the message was not accepted: the webhook answers 503 so GitHub's delivery shows failed.
 */
export type PublishErrorCode = 'PUBLISH_REFUSED' | 'PUBLISH_REFUSED_BY_BOTH';

export class PublishError extends Error {
  readonly code: PublishErrorCode;
  readonly deliveryId: string;
  readonly refusals: readonly PublishRefusal[];

  constructor(deliveryId: string, refusals: readonly PublishRefusal[]) {
    const causes = refusals
      .map((r) => `${r.backend}${r.timedOut ? ' (timed out)' : ''}: ${r.error.message}`)
      .join('; ');
    super(`delivery ${deliveryId} was not published: ${causes}`, {
      cause: refusals.length === 1 ? refusals[0]?.error : new AggregateError(refusals.map((r) => r.error)),
    });
    this.name = 'PublishError';
    this.code = refusals.length > 1 ? 'PUBLISH_REFUSED_BY_BOTH' : 'PUBLISH_REFUSED';
    this.deliveryId = deliveryId;
    this.refusals = refusals;
  }
}
