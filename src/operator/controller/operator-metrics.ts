import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** The operator's own metrics, in a registry of its own (no global state). */
export class OperatorMetrics {
  readonly registry = new Registry();
  readonly reconciles = new Counter({
    name: 'queueshift_operator_reconciles_total',
    help: 'Reconciles by result (success, error, terminal).',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  readonly reconcileSeconds = new Histogram({
    name: 'queueshift_operator_reconcile_duration_seconds',
    help: 'Time of one reconcile, observations and actions included.',
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly queueDepth = new Gauge({
    name: 'queueshift_operator_work_queue_depth',
    help: 'Keys waiting to be reconciled.',
    registers: [this.registry],
  });
  readonly watchRestarts = new Counter({
    name: 'queueshift_operator_watch_restarts_total',
    help: 'List-watch restarts by resource (410 Gone, errors).',
    labelNames: ['resource'] as const,
    registers: [this.registry],
  });
  readonly leader = new Gauge({
    name: 'queueshift_operator_leader',
    help: '1 while this replica holds the leader lease.',
    registers: [this.registry],
  });

  constructor() {
    for (const result of ['success', 'error', 'terminal']) this.reconciles.inc({ result }, 0);
    for (const resource of ['queuemigrations', 'deployments']) this.watchRestarts.inc({ resource }, 0);
  }
}
