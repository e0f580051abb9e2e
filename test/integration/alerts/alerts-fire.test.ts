import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTROL_ANNOTATIONS } from '../../../src/operator/api/names.ts';
import { freePort, LOOPBACK } from '../../env/ports.ts';
import {
  RulesPrometheus,
  withScaledForDurations,
  type ActiveAlert,
  type ScrapeTarget,
} from '../../env/prometheus-rules.ts';
import { withRedis } from '../../env/redis.ts';
import { waitUntil } from '../../env/wait.ts';
import { exampleDelivery, send } from '../services/fixtures/deliveries.ts';
import { PrivateRedis } from '../services/fixtures/private-redis.ts';
import { ServiceGroup, type ServiceProcess } from '../services/fixtures/service-process.ts';
import { operatorWithHeldMigrations } from './fixtures/idle-pipeline.ts';
import { leaseNameFor, OPERATOR_NAMESPACE, TestOperator } from './fixtures/test-operator.ts';

const RULES_FILE = fileURLToPath(
  new URL('../../../config/prometheus/queueshift-alerts.yaml', import.meta.url),
);
const FAILING_HANDLER = fileURLToPath(new URL('./fixtures/failing-handler.ts', import.meta.url));
/** The committed rules with every `for` in seconds where it says minutes; expressions unchanged. */
const FOR_DIVISOR = 60;
const SECRET = `alerts-${randomUUID()}`;
const STREAM = 'github-webhooks';
/** Scaled `for` durations are at most 10 s; scrapes and evaluations run every second. */
const FIRING_WAIT = { timeoutMs: 50_000, intervalMs: 500 };
/** Generous: the machine is shared, and a service's start-up loads the AWS SDK. */
const READY_TIMEOUT_MS = 60_000;

/** A webhook and a worker on a stream Redis and an idempotency Redis of their own. */
interface Pipeline {
  namespace: string;
  queue: PrivateRedis;
  idempotency: PrivateRedis;
  webhook: ServiceProcess;
  worker: ServiceProcess;
}

async function serviceEnv(queue: PrivateRedis): Promise<Record<string, string>> {
  return {
    PORT: String(await freePort()),
    LISTEN_HOST: LOOPBACK,
    QUEUE_TYPE: 'redis',
    REDIS_ADDRESS: queue.address,
    REDIS_STREAM_NAME: STREAM,
  };
}

/** Starts a pipeline; `cleanups` gets what to stop as soon as each part runs. */
async function startPipeline(
  services: ServiceGroup,
  cleanups: (() => Promise<void>)[],
  namespace: string,
): Promise<Pipeline> {
  const [queue, idempotency] = await Promise.all([PrivateRedis.start(), PrivateRedis.start()]);
  cleanups.push(
    () => queue.dispose(),
    () => idempotency.dispose(),
  );
  const [webhook, worker] = await Promise.all([
    serviceEnv(queue).then((env) =>
      services.start('webhook', { ...env, WEBHOOK_SECRET: SECRET, PUBLISH_TIMEOUT: '1s' }),
    ),
    serviceEnv(queue).then((env) =>
      services.start('worker', {
        ...env,
        POD_NAME: `worker-${namespace}`,
        IDEMPOTENCY_REDIS_ADDRESS: idempotency.address,
        HANDLER_MODULE: FAILING_HANDLER,
        MAX_DELIVERIES: '2',
        RETRY_DELAY: '100ms',
        REDIS_BLOCK_DURATION: '100ms',
        REDIS_CLAIM_IDLE: '500ms',
      }),
    ),
  ]);
  await Promise.all([webhook.waitReady(READY_TIMEOUT_MS), worker.waitReady(READY_TIMEOUT_MS)]);
  return { namespace, queue, idempotency, webhook, worker };
}

function scrapeTargets(
  pipelines: readonly Pipeline[],
): { address: string; labels: Record<string, string> }[] {
  return pipelines.flatMap(({ namespace, webhook, worker }) =>
    [webhook, worker].map((service) => ({
      address: new URL(service.url('/')).host,
      labels: { namespace, pod: `${service.command}-${namespace}` },
    })),
  );
}

describe('the alerting rules, loaded into a real Prometheus that scrapes real services', () => {
  const services = new ServiceGroup();
  const cleanups: (() => Promise<void>)[] = [() => services.disposeAll()];
  const fired = new Set<string>();
  let prometheus: RulesPrometheus;
  let failing: Pipeline;
  let outage: Pipeline;
  let suffix: string;
  const targets: ScrapeTarget[] = [];

  beforeAll(async () => {
    suffix = randomUUID().slice(0, 8);
    [failing, outage] = await Promise.all([
      startPipeline(services, cleanups, `alerts-failing-${suffix}`),
      startPipeline(services, cleanups, `alerts-outage-${suffix}`),
    ]);
    prometheus = await RulesPrometheus.start(
      withScaledForDurations(fs.readFileSync(RULES_FILE, 'utf8'), FOR_DIVISOR),
    );
    cleanups.push(() => prometheus.stop());
    targets.push(...scrapeTargets([failing, outage]));
    prometheus.scrape(targets);
    // Counters must be seen at 0 before the cases move them: rate() and increase() need two samples.
    await waitUntil(
      async () =>
        (await prometheus.seriesCount(`up{namespace=~"alerts-.*-${suffix}"} == 1`)) === targets.length,
      { what: `the test's prometheus to scrape ${String(targets.length)} services`, ...FIRING_WAIT },
    );
  });

  afterAll(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  /** Waits until `alertname` fires with these labels; remembers it for the coverage check. */
  async function firing(alertname: string, labels: Record<string, string>): Promise<ActiveAlert> {
    const alert = await waitUntil(
      async () =>
        (await prometheus.alerts()).find(
          (candidate) =>
            candidate.state === 'firing' &&
            candidate.labels['alertname'] === alertname &&
            Object.entries(labels).every(([label, value]) => candidate.labels[label] === value),
        ),
      { what: `${alertname} ${JSON.stringify(labels)} to fire`, ...FIRING_WAIT },
    );
    fired.add(alertname);
    return alert;
  }

  it('a handler that fails every attempt fires the failure-ratio and dead-letter alerts', async () => {
    const { namespace } = failing;
    const deliveries = Array.from({ length: 3 }, () => exampleDelivery('issues'));
    for (const delivery of deliveries) {
      expect(await send(failing.webhook.url('/webhook'), delivery, SECRET)).toBe(202);
    }

    const ratio = await firing('QueueshiftHandlerFailureRatioHigh', { namespace, queue_type: 'redis' });
    expect(Number(ratio.value)).toBeGreaterThan(0.1);
    expect(ratio.labels['severity']).toBe('warning');
    expect(ratio.annotations['summary']).toContain(namespace);

    const deadLetters = await firing('QueueshiftDeadLettersGrowing', { namespace, queue_type: 'redis' });
    expect(Number(deadLetters.value)).toBeGreaterThan(0);
    // The condition is real: the deliveries are in the stream's dead-letter queue.
    const dlqLength = await withRedis({ port: failing.queue.port }, (client) => client.xlen(`${STREAM}:dlq`));
    expect(dlqLength).toBe(deliveries.length);
  });

  it('a stopped stream Redis fires the back-end alert, and the 503 it causes the refusal alert', async () => {
    const { namespace } = outage;
    await outage.queue.kill();
    try {
      expect(await send(outage.webhook.url('/webhook'), exampleDelivery('push'), SECRET)).toBe(503);

      const backend = await firing('QueueshiftQueueBackendUnreachable', { namespace, queue_type: 'redis' });
      expect(backend.labels['severity']).toBe('critical');
      const refusing = await firing('QueueshiftWebhookRefusingDeliveries', {
        namespace,
        queue_type: 'redis',
      });
      expect(Number(refusing.value)).toBeGreaterThan(0);
    } finally {
      await outage.queue.restart();
    }
  });

  it('a stopped idempotency Redis fires its alert once a delivery reaches a worker', async () => {
    const { namespace } = failing;
    await failing.idempotency.kill();
    try {
      // The stream Redis is up: the webhook accepts it, and the worker cannot take its lease.
      expect(await send(failing.webhook.url('/webhook'), exampleDelivery('push'), SECRET)).toBe(202);

      const alert = await firing('QueueshiftIdempotencyStoreUnreachable', { namespace });
      expect(alert.labels['severity']).toBe('critical');
    } finally {
      await failing.idempotency.restart();
    }
  });

  it('an operator that cannot take its leader lease fires the not-leading alert', async () => {
    const namespace = `alerts-operator-${suffix}`;
    // Another install's replica holds the lease this one is configured with, for an hour.
    const heldElsewhere = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: leaseNameFor(namespace), namespace: OPERATOR_NAMESPACE },
      spec: { holderIdentity: 'operator-of-another-install', leaseDurationSeconds: 3_600 },
    };
    const operator = await TestOperator.start(namespace, (tools) =>
      tools.kubectl(['apply', '-f', '-'], JSON.stringify(heldElsewhere)),
    );
    cleanups.push(async () => {
      await operator.dispose();
      await operator.tools.kubectl(['delete', 'lease', leaseNameFor(namespace), '-n', OPERATOR_NAMESPACE]);
    });
    // Scraped as in a cluster: the operator pod lives where its Lease does.
    targets.push({
      address: new URL(operator.metricsUrl).host,
      labels: { namespace: OPERATOR_NAMESPACE, pod: `operator-${namespace}` },
    });
    prometheus.scrape(targets);

    const alert = await firing('QueueshiftOperatorNotLeading', { namespace: OPERATOR_NAMESPACE });
    expect(alert.labels['severity']).toBe('critical');
    expect(alert.annotations['description']).toContain(`kubectl get lease -n ${OPERATOR_NAMESPACE}`);
  });

  it("a real operator's migrations fire the stuck, paused and rolled-back alerts", async () => {
    const namespace = `alerts-migrations-${suffix}`;
    const { operator, dispose } = await operatorWithHeldMigrations(namespace);
    cleanups.push(dispose);
    targets.push({
      address: new URL(operator.metricsUrl).host,
      labels: { namespace: OPERATOR_NAMESPACE, pod: `operator-${namespace}` },
    });
    prometheus.scrape(targets);

    const stuck = await firing('QueueshiftMigrationStuck', { migration: `${namespace}/waiting` });
    expect(stuck.labels['stage']).toBe('dual');
    expect(Number(stuck.value)).toBeGreaterThan(2);
    const paused = await firing('QueueshiftMigrationPaused', {
      migration: `${namespace}/held`,
      reason: 'SpecPaused',
    });
    expect(paused.annotations['description']).toContain(`kubectl queueshift status held -n ${namespace}`);

    await operator.tools.kubectl([
      'annotate',
      'qm',
      'waiting',
      '-n',
      namespace,
      `${CONTROL_ANNOTATIONS.abort}=alerts-${suffix}`,
    ]);
    const rolledBack = await firing('QueueshiftMigrationRolledBack', { migration: `${namespace}/waiting` });
    expect(['RollingBack', 'RolledBack']).toContain(rolledBack.labels['phase']);
    // Going back is not being stuck: that alert clears.
    await waitUntil(
      async () =>
        !(await prometheus.alerts()).some(
          (alert) =>
            alert.labels['alertname'] === 'QueueshiftMigrationStuck' &&
            alert.labels['migration'] === `${namespace}/waiting`,
        ),
      { what: 'the stuck alert of the aborted migration to clear', ...FIRING_WAIT },
    );

    // A deleted migration's series go with it, and so do its alerts.
    await operator.tools.kubectl(['delete', 'qm', 'held', '-n', namespace]);
    await waitUntil(
      async () =>
        (await prometheus.seriesCount(`queueshift_migration_phase{migration="${namespace}/held"}`)) === 0,
      { what: 'the series of the deleted migration to go', ...FIRING_WAIT },
    );
  });

  // Runs last (vitest runs a file's tests in order): an alert added to the rules without a live
  // case above fails here.
  it('every alerting rule of the file fired in one of the cases above', async () => {
    const alerting = (await prometheus.rules()).filter((rule) => rule.type === 'alerting');
    expect(alerting.length).toBeGreaterThan(0);
    expect([...fired].sort()).toEqual(alerting.map((rule) => rule.name).sort());
  });
});
