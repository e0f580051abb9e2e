import type { Clock } from '../../adapter/index.ts';
import type { Logger } from 'pino';
import { queueMigrationSpec } from '../api/spec-schema.ts';
import { isFinalPhase, queueMigrationStatus } from '../api/status-schema.ts';
import type { Gate } from '../analysis/gate.ts';
import { isKubeError } from '../kube/kube-api-error.ts';
import type { KubeApi } from '../kube/kube-api.ts';
import { FINALIZER, paths } from '../kube/resource-paths.ts';
import type { Decision } from '../stages/actions.ts';
import { decide } from '../stages/stage-machine.ts';
import type { ActionExecutor } from './action-executor.ts';
import type { AnalysisMeasurer } from './analysis-measurer.ts';
import { tokensOf, type MigrationObject } from './migration-object.ts';
import type { ObservationGatherer } from './observation-gatherer.ts';
import type { OperatorMetrics } from './operator-metrics.ts';

/** What a reconcile asks of the controller: look again after a while, or nothing. */
export interface ReconcileResult {
  requeueAfterMs?: number;
  /**
   * Nothing runs for the migration until its object changes: it is finished (Succeeded or
   * RolledBack) or gone. Whatever was held for it may be released; a later pass that needs a
   * connection (a retry, a deletion) opens it again.
   */
  atRest?: true;
}

/**
 * The result of a decision. A final phase is reached only once the rollback's drain or the
 * cleanup's final sweep is done, and no pass at a final phase reads a queue (the gatherer opens
 * nothing then): whatever the pass acted on, it has finished by the time this is returned.
 */
export function reconcileResultOf(decision: Pick<Decision, 'status' | 'requeueAfterMs'>): ReconcileResult {
  return {
    ...(decision.requeueAfterMs !== undefined && { requeueAfterMs: decision.requeueAfterMs }),
    ...(isFinalPhase(decision.status.phase) && { atRest: true }),
  };
}

/**
 * A failure that retrying cannot fix (a stored object the schema refuses): logged, and the key
 * is not retried until the object changes.
 */
export class TerminalError extends Error {
  override readonly name = 'TerminalError';
}

export interface ReconcilerOptions {
  api: KubeApi;
  gatherer: ObservationGatherer;
  executor: ActionExecutor;
  gates: readonly Gate[];
  measurer: AnalysisMeasurer;
  metrics: OperatorMetrics;
  clock: Clock;
  logger: Logger;
}

/**
 * Level-triggered: from a key, read the migration and everything it names, decide, write status
 * once, then act. It never sees the event that caused it, so a missed or repeated event changes
 * nothing.
 */
export class Reconciler {
  private readonly options: ReconcilerOptions;

  constructor(options: ReconcilerOptions) {
    this.options = options;
  }

  async reconcile(key: string): Promise<ReconcileResult> {
    const { api, gatherer, executor, gates, measurer, metrics, clock } = this.options;
    const [namespace = '', name = ''] = key.split('/');
    let migration: MigrationObject;
    try {
      migration = await api.request<MigrationObject>('GET', paths.migration(namespace, name));
    } catch (error) {
      if (isKubeError(error, 'KUBE_API_NOT_FOUND')) return { atRest: true };
      throw error;
    }
    const spec = queueMigrationSpec.safeParse(migration.spec);
    if (!spec.success) {
      throw new TerminalError(`QueueMigration ${key}: the stored spec is invalid: ${spec.error.message}`);
    }
    const status = queueMigrationStatus.safeParse(migration.status ?? {});
    if (!status.success) {
      // Starting from an empty status would forget the recorded originals: refuse instead.
      throw new TerminalError(
        `QueueMigration ${key}: the stored status is unreadable: ${status.error.message}`,
      );
    }
    const observed = await gatherer.gather(migration, spec.data, status.data);
    const now = clock.now();
    const context = {
      stage: status.data.stage,
      step: status.data.step ?? 0,
      deployments: [...observed.deployments.values(), ...observed.canaries.values()],
      now,
    };
    const [verdicts, analysis] = await Promise.all([
      Promise.all(gates.map((gate) => gate.evaluate(context))).then((all) => all.flat()),
      measurer.measureDue(
        {
          key,
          spec: spec.data,
          status: status.data,
          readyConsumers: () => gatherer.readyConsumerPods(namespace, spec.data, now),
        },
        now,
      ),
    ]);
    const decision = decide({
      spec: spec.data,
      status: status.data,
      generation: migration.metadata.generation ?? 0,
      tokens: tokensOf(migration),
      finalizerPresent: (migration.metadata.finalizers ?? []).includes(FINALIZER),
      deleting: migration.metadata.deletionTimestamp !== undefined,
      observations: { ...observed, verdicts, ...(analysis !== undefined && { analysis }) },
      now,
    });
    // Counted once judged: a round measured again after a failed status write counts again.
    metrics.countRound(key, status.data.analysis, decision.status.analysis);
    metrics.migrations.observe(key, spec.data, status.data, decision.status);
    await executor.catchUpEvents(migration, status.data.history ?? []);
    await executor.run(migration, decision.actions);
    const transitions = decision.actions.flatMap((a) => (a.kind === 'recordEvent' ? [a.entry.reason] : []));
    if (transitions.length > 0) {
      this.options.logger.info(
        { migration: key, transitions, message: decision.status.message },
        'transition',
      );
    }
    return reconcileResultOf(decision);
  }
}
