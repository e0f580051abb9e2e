/**
 * The metric families of both services, named as the system's dashboards and alerts expect
 * (DESIGN.md §2). Every series carries `queue_type`: the back end the event went to or came from.
 */
export const METRIC_FAMILIES = {
  received: {
    name: 'webhook_events_received_total',
    help: 'Deliveries received: valid requests at the webhook, messages fetched at the worker.',
  },
  published: {
    name: 'webhook_events_published_total',
    help: 'Deliveries a queue accepted (webhook), by the back end that accepted them.',
  },
  fallback: {
    name: 'webhook_events_fallback_total',
    help: 'Deliveries published to the fallback back end because the primary refused them (webhook).',
  },
  refusals: {
    name: 'webhook_publish_refusals_total',
    help: 'Publish attempts a back end refused or did not answer in time (webhook).',
  },
  rejected: {
    name: 'webhook_requests_rejected_total',
    help: 'Requests answered with an error status, by reason and status (webhook).',
  },
  processed: {
    name: 'webhook_events_processed_total',
    help: 'Handler attempts that succeeded, after which the delivery was done (worker).',
  },
  skipped: {
    name: 'webhook_events_skipped_total',
    help: 'Deliveries not handled: already done (a redelivery), or leased by another worker (worker).',
  },
  retried: {
    name: 'webhook_events_retried_total',
    help: 'Deliveries scheduled for another attempt (worker).',
  },
  deadLettered: {
    name: 'webhook_events_dead_lettered_total',
    help: 'Deliveries moved to a dead-letter queue with their reason (worker).',
  },
  failed: {
    name: 'webhook_events_failed_total',
    help: 'Deliveries that failed: not accepted by any queue (webhook, answered 503), or a handler attempt that did not succeed (worker).',
  },
  consumerErrors: {
    name: 'webhook_consumer_errors_total',
    help: 'Failures while consuming, by code; none loses a message, each is retried (worker).',
  },
  duration: {
    name: 'webhook_event_processing_duration_seconds',
    help: 'Time to accept a delivery, from request to queue acknowledgement (webhook); handler time (worker).',
  },
} as const;

/** Seconds, from a fast publish (about a millisecond) to a slow handler. */
export const DURATION_BUCKETS = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
];
