import type { BackendKind, PublishError, PublishResult } from '../adapter/index.ts';
import type { Counter, Histogram, Registry } from 'prom-client';
import { METRIC_FAMILIES } from '../observability/metric-names.ts';
import { labelCombinations, zeroedCounter, zeroedHistogram } from '../observability/metrics.ts';
import { REJECTION_REASONS, REJECTIONS, type RejectionReason } from './rejections.ts';

export interface WebhookQueues {
  primary: BackendKind;
  fallback?: BackendKind | undefined;
}

/**
 * The webhook's metrics. A delivery that is not published yet counts under the primary back end;
 * once published, under the back end that accepted it.
 */
export class WebhookMetrics {
  private readonly primary: BackendKind;
  private readonly receivedTotal: Counter<'queue_type'>;
  private readonly publishedTotal: Counter<'queue_type'>;
  private readonly fallbackTotal: Counter<'queue_type'>;
  private readonly refusalsTotal: Counter<'queue_type'>;
  private readonly failedTotal: Counter<'queue_type'>;
  private readonly rejectedTotal: Counter<'queue_type' | 'reason' | 'status'>;
  private readonly duration: Histogram<'queue_type'>;

  constructor(registry: Registry, queues: WebhookQueues) {
    const { primary, fallback } = queues;
    this.primary = primary;
    const label = ['queue_type'] as const;
    const primaryOnly = [{ queue_type: primary }];
    const configured = labelCombinations({
      queue_type: fallback === undefined ? [primary] : [primary, fallback],
    });
    const families = METRIC_FAMILIES;
    this.receivedTotal = zeroedCounter(registry, families.received, label, primaryOnly);
    this.publishedTotal = zeroedCounter(registry, families.published, label, configured);
    this.fallbackTotal = zeroedCounter(
      registry,
      families.fallback,
      label,
      fallback === undefined ? [] : [{ queue_type: fallback }],
    );
    this.refusalsTotal = zeroedCounter(registry, families.refusals, label, configured);
    this.failedTotal = zeroedCounter(registry, families.failed, label, primaryOnly);
    this.rejectedTotal = zeroedCounter(
      registry,
      families.rejected,
      ['queue_type', 'reason', 'status'],
      REJECTION_REASONS.map((reason) => ({
        queue_type: primary,
        reason,
        status: String(REJECTIONS[reason].status),
      })),
    );
    this.duration = zeroedHistogram(registry, families.duration, label, configured);
  }

  /** A valid, verified delivery about to be published. */
  received(): void {
    this.receivedTotal.inc({ queue_type: this.primary });
  }

  accepted(result: PublishResult, seconds: number): void {
    this.publishedTotal.inc({ queue_type: result.backend });
    this.duration.observe({ queue_type: result.backend }, seconds);
    if (result.usedFallback) {
      this.fallbackTotal.inc({ queue_type: result.backend });
      this.refusalsTotal.inc({ queue_type: this.primary });
    }
  }

  /** No back end accepted the delivery: it is answered 503. */
  notAccepted(error: PublishError): void {
    this.failedTotal.inc({ queue_type: this.primary });
    for (const refusal of error.refusals) this.refusalsTotal.inc({ queue_type: refusal.backend });
  }

  rejected(reason: RejectionReason): void {
    this.rejectedTotal.inc({ queue_type: this.primary, reason, status: String(REJECTIONS[reason].status) });
  }
}
