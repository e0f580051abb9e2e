import type { V1Deployment } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { Clock } from '../../adapter/index.ts';
import { KIND } from '../api/names.ts';
import type { KubeApi } from '../kube/kube-api.ts';
import { listWatch } from '../kube/list-watch.ts';
import { paths } from '../kube/resource-paths.ts';
import { keyOf, type MigrationObject } from './migration-object.ts';
import type { OperatorMetrics } from './operator-metrics.ts';
import type { QueueFigures } from './queue-figures.ts';
import { TerminalError, type Reconciler } from './reconciler.ts';
import { TargetIndex } from './target-index.ts';
import { WorkQueue } from './work-queue.ts';

export interface ControllerSettings {
  /** Only this namespace; every namespace when undefined. */
  namespace: string | undefined;
  /** Full relist of each watched resource this often. */
  resyncMs: number;
  /** Reconciles running at once (each key is handled by one at a time). */
  workers: number;
  /** Retry delays of a failing key. */
  retryBaseMs: number;
  retryMaxMs: number;
  /** Watch restart backoff. */
  watchBackoffMs: number;
  watchMaxBackoffMs: number;
}

export interface ControllerDependencies {
  api: KubeApi;
  reconciler: Reconciler;
  figures: QueueFigures;
  clock: Clock;
  logger: Logger;
  metrics: OperatorMetrics;
}

function targetsOf(migration: MigrationObject): string[] {
  const spec = migration.spec as
    { producers?: { name?: string }[]; consumers?: { name?: string }[] } | undefined;
  return [...(spec?.producers ?? []), ...(spec?.consumers ?? [])].flatMap((t) =>
    t.name === undefined ? [] : [t.name],
  );
}

/**
 * What a reconcile reads from a QueueMigration besides its status: the spec (its generation counts
 * every change of it), the control annotations, the finalizers and the deletion. An event that
 * changes none of these is the echo of the operator's own status write (or of a label edit):
 * reconciling for it would only repeat the last decision, and with many migrations those echoes
 * queue ahead of the changes that matter.
 */
export function decisionInputsOf(migration: MigrationObject): string {
  const { generation, annotations, finalizers, deletionTimestamp } = migration.metadata;
  return JSON.stringify([generation, annotations ?? {}, finalizers ?? [], deletionTimestamp ?? null]);
}

/**
 * Watches QueueMigrations and Deployments, and turns every change into a key on the work queue:
 * a migration's own key, or the keys of the migrations that name (or own, for canaries) a
 * Deployment. Workers take keys and reconcile them; nothing calls the reconciler otherwise.
 */
export class MigrationController {
  private readonly settings: ControllerSettings;
  private readonly deps: ControllerDependencies;
  private readonly index = new TargetIndex();
  /** decisionInputsOf each migration as last seen, to drop events that change none of them. */
  private readonly seenInputs = new Map<string, string>();
  /**
   * The queue of the current run. Each run (each term as leader) gets a fresh one: a run ends by
   * shutting its queue down, and a replica that leads again must not inherit a queue whose
   * workers would return at once.
   */
  private queue: WorkQueue;

  constructor(settings: ControllerSettings, deps: ControllerDependencies) {
    this.settings = settings;
    this.deps = deps;
    this.queue = this.newQueue();
  }

  private newQueue(): WorkQueue {
    return new WorkQueue({
      clock: this.deps.clock,
      baseDelayMs: this.settings.retryBaseMs,
      maxDelayMs: this.settings.retryMaxMs,
    });
  }

  private enqueue(key: string): void {
    this.queue.add(key);
    this.deps.metrics.queueDepth.set(this.queue.length);
  }

  private onMigration(type: 'ADDED' | 'MODIFIED' | 'DELETED', migration: MigrationObject): void {
    const key = keyOf(migration);
    if (type === 'DELETED') {
      this.index.delete(key);
      this.seenInputs.delete(key);
      this.deps.metrics.migrations.forget(key);
      // Its connections go in a pass of their own, which finds it gone: released here, they could
      // be reopened by a pass of it still in progress.
      this.enqueue(key);
      return;
    }
    const inputs = decisionInputsOf(migration);
    const unchanged = type === 'MODIFIED' && this.seenInputs.get(key) === inputs;
    this.seenInputs.set(key, inputs);
    if (unchanged) return;
    this.index.set(key, targetsOf(migration));
    this.enqueue(key);
  }

  private onDeployment(deployment: V1Deployment): void {
    const namespace = deployment.metadata?.namespace ?? '';
    const owners = (deployment.metadata?.ownerReferences ?? []).filter((o) => o.kind === KIND);
    for (const owner of owners) this.enqueue(`${namespace}/${owner.name}`);
    for (const key of this.index.migrationsOf(namespace, deployment.metadata?.name ?? '')) this.enqueue(key);
  }

  /** Closes the connections held for a migration at rest; a close that fails costs a log line, no retry. */
  private async release(key: string): Promise<void> {
    // Not measured from now on: a last value left in /metrics would read as a current one.
    this.deps.metrics.forgetStream(key);
    try {
      await this.deps.figures.forget(key);
    } catch (error) {
      this.deps.logger.warn(
        { err: error, migration: key },
        'could not close a connection of a migration at rest',
      );
    }
  }

  private async work(queue: WorkQueue, signal: AbortSignal): Promise<void> {
    const { reconciler, logger, metrics, clock } = this.deps;
    for (;;) {
      const key = await queue.get();
      if (key === undefined) return;
      metrics.queueDepth.set(queue.length);
      const started = clock.now();
      try {
        const result = await reconciler.reconcile(key);
        queue.forget(key);
        metrics.reconciles.inc({ result: 'success' });
        // Released while the key is still this worker's: no pass of it can reopen a client meanwhile.
        if (result.atRest === true) await this.release(key);
        if (result.requeueAfterMs !== undefined && !signal.aborted)
          queue.addAfter(key, result.requeueAfterMs);
      } catch (error) {
        if (error instanceof TerminalError) {
          metrics.reconciles.inc({ result: 'terminal' });
          logger.error(
            { err: error, migration: key },
            'reconcile failed for good; waiting for the object to change',
          );
        } else {
          metrics.reconciles.inc({ result: 'error' });
          logger.warn({ err: error, migration: key }, 'reconcile failed; retrying with backoff');
          if (!signal.aborted) queue.addRateLimited(key);
        }
      } finally {
        metrics.reconcileSeconds.observe((clock.now() - started) / 1_000);
        queue.done(key);
      }
    }
  }

  /**
   * Runs until `signal` aborts; then lets the reconciles in progress finish, and lets go of what it
   * held for the migrations: their series and their connections.
   */
  async run(signal: AbortSignal): Promise<void> {
    const { api, clock, logger, metrics } = this.deps;
    const { namespace, resyncMs } = this.settings;
    const queue = this.newQueue();
    this.queue = queue;
    const common = {
      api,
      clock,
      resyncMs,
      initialBackoffMs: this.settings.watchBackoffMs,
      maxBackoffMs: this.settings.watchMaxBackoffMs,
    };
    const restarted = (resource: string) => (error: unknown) => {
      metrics.watchRestarts.inc({ resource });
      logger.warn({ err: error, resource }, 'watch restarted');
    };
    const watches = [
      listWatch<MigrationObject>(
        {
          ...common,
          path: paths.migrations(namespace),
          onList: (items) => {
            this.index.replaceAll(items.map((m) => [keyOf(m), targetsOf(m)]));
            this.deps.metrics.migrations.keepOnly(items.map(keyOf));
            this.seenInputs.clear();
            for (const item of items) {
              this.seenInputs.set(keyOf(item), decisionInputsOf(item));
              this.enqueue(keyOf(item));
            }
          },
          onEvent: (type, migration) => {
            this.onMigration(type, migration);
          },
          onRestart: restarted('queuemigrations'),
        },
        signal,
      ),
      listWatch<V1Deployment>(
        {
          ...common,
          path: paths.deployments(namespace),
          onList: (items) => {
            for (const item of items) this.onDeployment(item);
          },
          onEvent: (_type, deployment) => {
            this.onDeployment(deployment);
          },
          onRestart: restarted('deployments'),
        },
        signal,
      ),
    ];
    const workers = Array.from({ length: this.settings.workers }, () => this.work(queue, signal));
    signal.addEventListener(
      'abort',
      () => {
        queue.shutDown();
      },
      { once: true },
    );
    try {
      await Promise.all([...watches, ...workers]);
    } finally {
      // Another replica leads now, or none: its series are the true ones, and it opens the
      // connections it needs. Kept here, they would be a standby's idle clients on every server.
      metrics.migrations.keepOnly([]);
      metrics.forgetAllStreams();
      await this.deps.figures.close();
    }
  }
}
