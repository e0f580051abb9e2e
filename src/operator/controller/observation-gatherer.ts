import type { V1Deployment, V1Pod, V1ReplicaSet } from '@kubernetes/client-node';
import type { QueueMigrationSpec } from '../api/spec-schema.ts';
import { isFinalPhase, PHASES, type Phase, type QueueMigrationStatus } from '../api/status-schema.ts';
import { expectedGroupConsumers } from '../analysis/expected-consumers.ts';
import { rolloutComplete } from '../analysis/rollout-health-gate.ts';
import { currentTemplatePods } from '../kube/current-template-pods.ts';
import { labelSelector, observeDeployment } from '../kube/deployment-observation.ts';
import type { KubeApi } from '../kube/kube-api.ts';
import { FIELD_MANAGER, paths } from '../kube/resource-paths.ts';
import { unlessKubeError } from '../kube/unless-kube-error.ts';
import type { Role } from '../stages/actions.ts';
import { managedVariables } from '../stages/container-settings.ts';
import { canaryName } from '../stages/layout.ts';
import type { DeploymentObservation, Observations } from '../stages/observations.ts';
import { sweepsSqsAt } from '../stages/progression.ts';
import { PreflightChecks } from '../preflight/preflight-checks.ts';
import type { PreflightFacts } from '../preflight/preflight-facts.ts';
import type { MigrationObject } from './migration-object.ts';
import type { QueueFigures } from './queue-figures.ts';
import { readRedisSecrets } from '../kube/redis-secrets.ts';

const getOrUndefined = <T>(api: KubeApi, path: string): Promise<T | undefined> =>
  unlessKubeError('KUBE_API_NOT_FOUND', () => api.request<T>('GET', path));

/**
 * Reads, fresh from the API server, what the stage machine decides on: every named Deployment, the
 * canaries this migration owns, the current template's pods of Deployments still rolling out (crash
 * loops show there), the rehearsal's phase and the queue figures a drain waits on. Fresh reads
 * rather than a watch cache: a decision never rests on a Deployment older than the one just patched.
 */
export class ObservationGatherer {
  private readonly api: KubeApi;
  private readonly figures: QueueFigures;
  private readonly preflight: PreflightChecks;

  constructor(api: KubeApi, figures: QueueFigures) {
    this.api = api;
    this.figures = figures;
    this.preflight = new PreflightChecks({ api, figures });
  }

  /**
   * The `dual` preflight's facts, while it can still matter: Pending, not passed, not paused, not
   * being deleted (a start that cannot happen needs no Redis or SQS round trips).
   */
  private async preflightFacts(
    migration: MigrationObject,
    spec: QueueMigrationSpec,
    status: QueueMigrationStatus,
  ): Promise<PreflightFacts | undefined> {
    const pending = (status.phase ?? 'Pending') === 'Pending' && status.preflight?.passedAt === undefined;
    if (!pending || spec.paused || migration.metadata.deletionTimestamp !== undefined) return undefined;
    const { namespace, name } = migration.metadata;
    return this.preflight.gather(`${namespace}/${name}`, namespace, spec);
  }

  private async observe(
    namespace: string,
    deployment: V1Deployment,
    container: string,
    role: Role,
  ): Promise<DeploymentObservation> {
    const partial = observeDeployment(deployment, {
      container,
      pods: [],
      fieldManager: FIELD_MANAGER,
      managedVariables: [],
    });
    // A finished rollout needs neither list: a steady state costs no request beyond the Deployment.
    let pods: V1Pod[] = [];
    if (!rolloutComplete(partial)) {
      const selected = { query: { labelSelector: labelSelector(deployment) } };
      const [podList, replicaSetList] = await Promise.all([
        this.api.request<{ items: V1Pod[] }>('GET', paths.pods(namespace), selected),
        this.api.request<{ items: V1ReplicaSet[] }>('GET', paths.replicaSets(namespace), selected),
      ]);
      pods = currentTemplatePods(deployment, replicaSetList.items, podList.items);
    }
    return observeDeployment(deployment, {
      container,
      pods,
      fieldManager: FIELD_MANAGER,
      managedVariables: managedVariables(role),
    });
  }

  /**
   * Names of the consumers' Ready pods: each is a stream consumer under its pod name, and must
   * show up as an active consumer of the group before a producer switches.
   */
  /** The consumer pods that must be active consumers of the group by now (see expectedGroupConsumers). */
  async readyConsumerPods(namespace: string, spec: QueueMigrationSpec, now: number): Promise<string[]> {
    const names = await Promise.all(
      spec.consumers.map(async ({ name, container }) => {
        const found = await getOrUndefined<V1Deployment>(this.api, paths.deployment(namespace, name));
        if (found === undefined) return [];
        const list = await this.api.request<{ items: V1Pod[] }>('GET', paths.pods(namespace), {
          query: { labelSelector: labelSelector(found) },
        });
        return expectedGroupConsumers(list.items, container, now);
      }),
    );
    return names.flat().sort();
  }

  async gather(
    migration: MigrationObject,
    spec: QueueMigrationSpec,
    status: QueueMigrationStatus,
  ): Promise<Omit<Observations, 'verdicts'>> {
    const { namespace, uid } = migration.metadata;
    const key = `${namespace}/${migration.metadata.name}`;
    // Every reconcile reads the referenced Secrets again (one GET each), so a rotated password or
    // certificate reaches the next Redis connection; at rest no connection is opened, so no read.
    const atRest = isFinalPhase(status.phase);
    if (!atRest) this.figures.useRedisSecrets(key, await readRedisSecrets(this.api, namespace, spec.redis));
    const preflight = await this.preflightFacts(migration, spec, status);
    const deployments = new Map<string, DeploymentObservation>();
    const canaries = new Map<string, DeploymentObservation>();
    const targets = [
      ...spec.producers.map((t) => ({ ...t, role: 'producer' as const })),
      ...spec.consumers.map((t) => ({ ...t, role: 'consumer' as const })),
    ];
    await Promise.all(
      targets.map(async (target) => {
        const found = await getOrUndefined<V1Deployment>(this.api, paths.deployment(namespace, target.name));
        if (found !== undefined)
          deployments.set(target.name, await this.observe(namespace, found, target.container, target.role));
      }),
    );
    await Promise.all(
      spec.producers.map(async (producer) => {
        const found = await getOrUndefined<V1Deployment>(
          this.api,
          paths.deployment(namespace, canaryName(producer.name)),
        );
        // Only a canary this migration owns is its canary; anything else by that name is left alone.
        if (found?.metadata?.ownerReferences?.some((o) => o.uid === uid) === true) {
          canaries.set(producer.name, await this.observe(namespace, found, producer.container, 'producer'));
        }
      }),
    );
    const rehearsalName = spec.stages.staging.rehearsal;
    let rehearsal: Phase | 'missing' | undefined;
    if (rehearsalName !== undefined && status.stage === 'staging') {
      const found = await getOrUndefined<MigrationObject>(
        this.api,
        paths.migration(namespace, rehearsalName),
      );
      const phase = (found?.status as QueueMigrationStatus | undefined)?.phase;
      rehearsal = found === undefined ? 'missing' : PHASES.find((p) => p === phase);
    }
    const drainingSqs = status.phase === 'Progressing' && status.stage === 'full' && status.step === 0;
    const sqsDepth = drainingSqs ? await this.figures.sqsDepth(key, spec) : undefined;
    const sweeping = sweepsSqsAt(status);
    const sqsRemainder = sweeping ? await this.figures.sqsSweeper(key, spec).remainder() : undefined;
    const drainingRedis = status.phase === 'RollingBack' && status.rollback?.step === 'drain-redis';
    const redisBacklog = drainingRedis ? await this.figures.redisBacklog(key, spec) : undefined;
    const redisMoves = drainingRedis ? this.figures.redisMoves(key) : undefined;
    return {
      deployments,
      canaries,
      ...(rehearsal !== undefined && { rehearsal }),
      ...(sqsDepth !== undefined && { sqsDepth }),
      ...(sqsRemainder !== undefined && { sqsRemainder }),
      ...(redisBacklog !== undefined && { redisBacklog }),
      ...(redisMoves !== undefined && { redisMoves }),
      ...(preflight !== undefined && { preflight }),
    };
  }
}
