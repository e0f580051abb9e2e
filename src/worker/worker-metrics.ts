import type { BackendKind, ConsumerErrorCode, ConsumerEvents } from '../adapter/index.ts';
import type { EventEmitter } from 'node:events';
import type { Registry } from 'prom-client';
import { METRIC_FAMILIES } from '../observability/metric-names.ts';
import { labelCombinations, zeroedCounter, zeroedHistogram } from '../observability/metrics.ts';

/** Written as a record so that a code added to the adapter without a series here fails to compile. */
const CONSUMER_ERROR_CODES: Record<ConsumerErrorCode, true> = {
  CONSUMER_RECEIVE_FAILED: true,
  CONSUMER_ACK_FAILED: true,
  CONSUMER_SETTLE_FAILED: true,
  CONSUMER_KEEPALIVE_FAILED: true,
  CONSUMER_IDEMPOTENCY_UNAVAILABLE: true,
  CONSUMER_LEASE_LOST: true,
  CONSUMER_DONE_MARK_LOST: true,
  CONSUMER_HANDLER_TIMEOUT: true,
  CONSUMER_HANDLER_FAILED: true,
};

/**
 * Turns the consumer pool's events into the worker's metrics, each labelled with the back end the
 * message came from. Listeners only count: the pool calls them synchronously.
 */
export function watchConsumer(
  pool: EventEmitter<ConsumerEvents>,
  registry: Registry,
  queueTypes: readonly BackendKind[],
): void {
  const label = ['queue_type'] as const;
  const series = labelCombinations({ queue_type: queueTypes });
  const families = METRIC_FAMILIES;
  const received = zeroedCounter(registry, families.received, label, series);
  const processed = zeroedCounter(registry, families.processed, label, series);
  const failed = zeroedCounter(registry, families.failed, label, series);
  const retried = zeroedCounter(registry, families.retried, label, series);
  const deadLettered = zeroedCounter(registry, families.deadLettered, label, series);
  const duration = zeroedHistogram(registry, families.duration, label, series);
  const skipped = zeroedCounter(
    registry,
    families.skipped,
    ['queue_type', 'reason'],
    labelCombinations({ queue_type: queueTypes, reason: ['done', 'held'] }),
  );
  const errors = zeroedCounter(
    registry,
    families.consumerErrors,
    ['queue_type', 'code'],
    labelCombinations({ queue_type: queueTypes, code: Object.keys(CONSUMER_ERROR_CODES) }),
  );

  pool.on('received', ({ message }) => {
    received.inc({ queue_type: message.backend });
  });
  pool.on('handled', ({ message, settledAs, durationMs }) => {
    duration.observe({ queue_type: message.backend }, durationMs / 1_000);
    (settledAs === 'ack' ? processed : failed).inc({ queue_type: message.backend });
  });
  pool.on('skipped', ({ message, reason }) => {
    skipped.inc({ queue_type: message.backend, reason });
  });
  pool.on('retried', ({ message }) => {
    retried.inc({ queue_type: message.backend });
  });
  pool.on('dead-lettered', ({ message }) => {
    deadLettered.inc({ queue_type: message.backend });
  });
  pool.on('failure', (error) => {
    errors.inc({ queue_type: error.context.backend ?? 'unknown', code: error.code });
  });
}
