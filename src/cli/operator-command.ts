/**
 * `queueshift operator`: the QueueMigration controller. Its settings come from the environment,
 * validated here like the services' (each problem names its variable); the operator's own code
 * gets typed settings.
 */
import { z } from 'zod';
import { systemClock, type Environment, type ParseResult } from '../adapter/index.ts';
import {
  duration,
  listenHost,
  nonBlank,
  port,
  problemsOf,
  token,
  wholeNumber,
} from '../adapter/env-fields.ts';
import { probeKubeReads } from '../operator/analysis/probe-kube-reads.ts';
import { RolloutHealthGate } from '../operator/analysis/rollout-health-gate.ts';
import { ActionExecutor } from '../operator/controller/action-executor.ts';
import { AnalysisMeasurer } from '../operator/controller/analysis-measurer.ts';
import { MigrationController } from '../operator/controller/migration-controller.ts';
import { ObservationGatherer } from '../operator/controller/observation-gatherer.ts';
import { OperatorMetrics } from '../operator/controller/operator-metrics.ts';
import { OperatorService } from '../operator/controller/operator-service.ts';
import { AdapterQueueFigures } from '../operator/controller/queue-figures.ts';
import { Reconciler } from '../operator/controller/reconciler.ts';
import { TransitionNotifier } from '../operator/controller/transition-notifier.ts';
import { EventRecorder } from '../operator/kube/event-recorder.ts';
import { inClusterCredentials } from '../operator/kube/in-cluster-credentials.ts';
import { KubeApi } from '../operator/kube/kube-api.ts';
import { kubeconfigCredentials } from '../operator/kube/kubeconfig-credentials.ts';
import { LeaderLease } from '../operator/kube/leader-lease.ts';
import { createLogger, LOG_LEVELS } from '../observability/logger.ts';
import type { EnvContext } from './configuration.ts';
import type { Prepared } from './prepared.ts';

/** Where a pod finds its own namespace. */
const SERVICE_ACCOUNT_NAMESPACE_FILE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';

const name = z
  .string()
  .trim()
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a DNS-1123 label')
  .max(63);

const variables = z.object({
  KUBECONFIG: z.string().trim().min(1).optional(),
  // Set by the kubelet in every pod: where the API server is when KUBECONFIG is not.
  KUBERNETES_SERVICE_HOST: z.string().trim().min(1).optional(),
  KUBERNETES_SERVICE_PORT: z.string().trim().min(1).optional(),
  POD_NAME: token.optional(),
  OPERATOR_NAMESPACE: name.optional(),
  OPERATOR_WATCH_NAMESPACE: name.optional(),
  OPERATOR_LEASE_NAME: name.default('queueshift-operator'),
  OPERATOR_LEASE_DURATION: duration.default(15_000),
  OPERATOR_RESYNC: duration.default(300_000),
  OPERATOR_WORKERS: wholeNumber(1, 32).default(4),
  // Budget of one outbound call: a metric query, a Redis read, a notification.
  OPERATOR_REQUEST_TIMEOUT: duration.default(5_000),
  PORT: port.default(8081),
  LISTEN_HOST: listenHost.optional(),
  LOG_LEVEL: z.enum(LOG_LEVELS, `must be one of ${LOG_LEVELS.join(', ')}`).default('info'),
});

export type OperatorSettings = z.output<typeof variables> & { operatorNamespace: string };

/** Stopping leads: reconciles in progress, lease release, server close. */
const STOP_BUDGET_MS = 30_000;

/** The operator's settings, or one problem per bad variable. */
export function operatorSettings(env: Environment, context: EnvContext): ParseResult<OperatorSettings> {
  const parsed = variables.safeParse(nonBlank(env));
  if (!parsed.success) return { ok: false, problems: problemsOf(parsed.error) };
  const operatorNamespace =
    parsed.data.OPERATOR_NAMESPACE ??
    (context.fileExists(SERVICE_ACCOUNT_NAMESPACE_FILE)
      ? context.readFile(SERVICE_ACCOUNT_NAMESPACE_FILE).trim()
      : undefined);
  if (operatorNamespace === undefined) {
    return {
      ok: false,
      problems: [
        { variable: 'OPERATOR_NAMESPACE', message: 'is required outside a pod (where the lease lives)' },
      ],
    };
  }
  return { ok: true, config: { ...parsed.data, operatorNamespace }, warnings: [] };
}

/** Builds the operator from the environment; `main.ts` runs it like the other services. */
export function prepareOperator(env: Environment, context: EnvContext): Promise<ParseResult<Prepared>> {
  const parsed = operatorSettings(env, context);
  if (!parsed.ok) return Promise.resolve(parsed);
  const settings = parsed.config;
  const identity = settings.POD_NAME ?? context.hostname();
  const logger = createLogger({
    level: settings.LOG_LEVEL,
    secrets: [],
    base: { service: 'operator', pod: identity },
  });
  const clock = systemClock;
  const api = new KubeApi(
    settings.KUBECONFIG === undefined
      ? inClusterCredentials(
          { host: settings.KUBERNETES_SERVICE_HOST, port: settings.KUBERNETES_SERVICE_PORT },
          clock,
        )
      : kubeconfigCredentials(settings.KUBECONFIG, { clock }),
  );
  const metrics = new OperatorMetrics();
  const figures = new AdapterQueueFigures(logger);
  const reconciler = new Reconciler({
    api,
    gatherer: new ObservationGatherer(api, figures),
    executor: new ActionExecutor(
      api,
      new EventRecorder(api, identity),
      new TransitionNotifier({ clock, timeoutMs: settings.OPERATOR_REQUEST_TIMEOUT, logger }),
      figures,
    ),
    gates: [new RolloutHealthGate()],
    measurer: new AnalysisMeasurer({
      figures,
      metrics,
      clock,
      timeoutMs: settings.OPERATOR_REQUEST_TIMEOUT,
      probeReads: probeKubeReads(api),
    }),
    metrics,
    clock,
    logger,
  });
  const controller = new MigrationController(
    {
      namespace: settings.OPERATOR_WATCH_NAMESPACE,
      resyncMs: settings.OPERATOR_RESYNC,
      workers: settings.OPERATOR_WORKERS,
      retryBaseMs: 200,
      retryMaxMs: 60_000,
      watchBackoffMs: 500,
      watchMaxBackoffMs: 30_000,
    },
    { api, reconciler, figures, clock, logger, metrics },
  );
  const leaseDurationMs = settings.OPERATOR_LEASE_DURATION;
  const service = new OperatorService({
    api,
    lease: new LeaderLease({
      api,
      namespace: settings.operatorNamespace,
      name: settings.OPERATOR_LEASE_NAME,
      identity,
      leaseDurationMs,
      clock,
    }),
    controller,
    metrics,
    clock,
    logger,
    listen: { port: settings.PORT, host: settings.LISTEN_HOST },
    renewIntervalMs: Math.max(1_000, Math.floor(leaseDurationMs / 5)),
    renewDeadlineMs: Math.floor((leaseDurationMs * 2) / 3),
  });
  return Promise.resolve({
    ok: true,
    config: { service, logger, stopBudgetMs: STOP_BUDGET_MS },
    warnings: [],
  });
}
