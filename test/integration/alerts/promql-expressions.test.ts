import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RulesPrometheus } from '../../env/prometheus-rules.ts';
import { waitUntil } from '../../env/wait.ts';
import { TestQueues } from '../adapter/fixtures/test-queues.ts';
import { webhookEnv, workerEnv } from '../services/fixtures/pipeline-env.ts';
import { ServiceGroup } from '../services/fixtures/service-process.ts';
import { exportedNames, metricNamesIn } from './fixtures/promql-names.ts';
import { operatorWithHeldMigrations } from './fixtures/idle-pipeline.ts';

const file = (relative: string): string => fileURLToPath(new URL(relative, import.meta.url));
const RULES_FILE = file('../../../config/prometheus/queueshift-alerts.yaml');
const DASHBOARD_FILE = file('../../../config/grafana/queueshift-dashboard.json');
const READY_TIMEOUT_MS = 60_000;
const WAIT = { timeoutMs: 30_000, intervalMs: 250 };

/**
 * The values Grafana gives the dashboard's variables when all namespaces are shown. A variable
 * missing here fails the test, so a new one cannot slip through unchecked.
 */
const DASHBOARD_VARIABLES: Record<string, string> = { __rate_interval: '1m', namespace: '.*' };

interface DashboardPanel {
  title: string;
  targets?: { expr: string }[];
}

function dashboardQueries(): { panel: string; expr: string }[] {
  const dashboard = JSON.parse(fs.readFileSync(DASHBOARD_FILE, 'utf8')) as { panels: DashboardPanel[] };
  return dashboard.panels.flatMap((panel) =>
    (panel.targets ?? []).map(({ expr }) => ({
      panel: panel.title,
      expr: expr.replace(/\$\{?(\w+)\}?/g, (_text, name: string) => {
        const value = DASHBOARD_VARIABLES[name];
        if (value === undefined)
          throw new Error(`panel "${panel.title}" uses $${name}, which this test does not set`);
        return value;
      }),
    })),
  );
}

describe('the PromQL of the alerting rules and the dashboard, against a real Prometheus', () => {
  const services = new ServiceGroup();
  const cleanups: (() => Promise<unknown>)[] = [() => services.disposeAll()];
  const metricsUrls: string[] = [];
  let prometheus: RulesPrometheus;

  beforeAll(async () => {
    const namespace = `alerts-promql-${randomUUID().slice(0, 8)}`;
    // Both back ends, so that every series exists: a dual worker, a webhook with a fallback.
    const queues = await TestQueues.create('dual');
    cleanups.push(() => queues.cleanup());
    const webhook = services.start(
      'webhook',
      await webhookEnv(queues, { queueType: 'redis', fallback: 'sqs', secret: randomUUID() }),
    );
    const worker = services.start('worker', await workerEnv(queues));
    // A migration in a stage and one paused, so that the migration series exist.
    const [operator] = await Promise.all([
      operatorWithHeldMigrations(namespace).then(({ operator: started, dispose }) => {
        cleanups.push(dispose);
        return started;
      }),
      webhook.waitReady(READY_TIMEOUT_MS),
      worker.waitReady(READY_TIMEOUT_MS),
    ]);
    metricsUrls.push(webhook.url('/metrics'), worker.url('/metrics'), operator.metricsUrl);

    prometheus = await RulesPrometheus.start(fs.readFileSync(RULES_FILE, 'utf8'));
    cleanups.push(() => prometheus.stop());
    prometheus.scrape(metricsUrls.map((url) => ({ address: new URL(url).host, labels: { namespace } })));
    // Two scrapes of each, so that rate() over the dashboard's interval has samples to work on.
    await waitUntil(
      async () =>
        (await prometheus.seriesCount(`count_over_time(up{namespace="${namespace}"}[1m]) >= 2`)) ===
        metricsUrls.length,
      { what: 'two scrapes of the webhook, the worker and the operator', ...WAIT },
    );
    await waitUntil(
      async () =>
        (await prometheus.seriesCount('count_over_time(queueshift_migration_rollbacks_total[1m]) >= 2')) ===
          2 && (await prometheus.seriesCount('queueshift_migration_stage_entered_timestamp_seconds')) === 1,
      { what: 'two scrapes of both migrations, one of them in a stage', ...WAIT },
    );
  });

  afterAll(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('loads every rule, evaluates each without an error, and answers each as a query', async () => {
    const rules = await waitUntil(
      async () => {
        const loaded = await prometheus.rules();
        return loaded.every((rule) => rule.health !== 'unknown') && loaded;
      },
      { what: 'every rule to be evaluated once', ...WAIT },
    );
    expect(rules.length).toBeGreaterThan(0);
    expect(rules.filter((rule) => rule.health !== 'ok')).toEqual([]);
    // And through the query API, as a dashboard or a gate would send them.
    await Promise.all(rules.map((rule) => prometheus.seriesCount(rule.query)));
  });

  it('answers every dashboard query with series from the running services', async () => {
    const queries = dashboardQueries();
    expect(queries.length).toBeGreaterThan(0);
    const answers = await Promise.all(
      queries.map(async (query) => ({ ...query, series: await prometheus.seriesCount(query.expr) })),
    );
    expect(answers.filter((answer) => answer.series === 0)).toEqual([]);
  });

  it('names only metrics that the webhook, the worker and the operator export, or that the rules record', async () => {
    const exported = new Set<string>();
    for (const url of metricsUrls) {
      for (const name of exportedNames(await (await fetch(url)).text())) exported.add(name);
    }
    const rules = await prometheus.rules();
    const recorded = rules.filter((rule) => rule.type === 'recording').map((rule) => rule.name);
    const known = new Set([...exported, ...recorded]);
    const named = [
      ...rules.map((rule) => rule.query),
      ...dashboardQueries().map((query) => query.expr),
    ].flatMap((expr) => metricNamesIn(expr).map((name) => ({ name, expr })));
    expect(named.length).toBeGreaterThan(0);
    expect(named.filter(({ name }) => !known.has(name))).toEqual([]);
  });

  it.each([
    [
      'sum by (queue_type) (rate(a_total{code="X"}[5m]) and on (job, instance) b_total)',
      ['a_total', 'b_total'],
    ],
    ['histogram_quantile(0.95, sum by (le) (rate(c_bucket[1m])))', ['c_bucket']],
    ['x:rate5m / (x:rate5m + sum without (pod) (d_total offset 5m)) > bool 0.1', ['x:rate5m', 'd_total']],
  ])('finds the metric names in %s', (expr, names) => {
    expect(metricNamesIn(expr).sort()).toEqual([...names].sort());
  });
});
