import type { V1Deployment } from '@kubernetes/client-node';
import type { HistoryEntry } from '../api/status-schema.ts';
import type { Action } from '../stages/actions.ts';
import { eventType } from '../stages/pass.ts';
import { canaryApplyConfiguration, settingsApplyConfiguration } from '../kube/apply-configurations.ts';
import type { EventRecorder } from '../kube/event-recorder.ts';
import { CONTENT_TYPES, type KubeApi } from '../kube/kube-api.ts';
import { FIELD_MANAGER, FINALIZER, paths } from '../kube/resource-paths.ts';
import { unlessKubeError } from '../kube/unless-kube-error.ts';
import { queueMigrationSpec } from '../api/spec-schema.ts';
import type { SweepCounters } from '../api/status-schema.ts';
import type { SweepCounts } from '../drain/sqs-to-stream-sweeper.ts';
import { keyOf, ownerOf, type MigrationObject } from './migration-object.ts';
import type { QueueFigures } from './queue-figures.ts';
import { notificationOf, type TransitionNotifier } from './transition-notifier.ts';

export const EXECUTOR_ERRORS = {
  CANARY_NAME_TAKEN: 'A Deployment with the canary’s name exists and is not owned by this QueueMigration.',
} as const;

export class ActionError extends Error {
  readonly code: keyof typeof EXECUTOR_ERRORS;

  constructor(code: keyof typeof EXECUTOR_ERRORS, message: string) {
    super(`${code}: ${message}`);
    this.name = 'ActionError';
    this.code = code;
  }
}

const APPLY = { fieldManager: FIELD_MANAGER, force: true };

/**
 * Carries out a decision's actions in their order, stopping at the first failure (the reconcile
 * is retried, and the level-triggered decision asks again for what is still missing); the
 * notifications of a written status go out last, whatever happened after the write. Keeps the
 * migration object's resourceVersion current, so that each write is guarded by the last.
 */
export class ActionExecutor {
  private readonly api: KubeApi;
  private readonly events: EventRecorder;
  private readonly notifier: TransitionNotifier;
  private readonly queues: Pick<QueueFigures, 'sqsSweeper' | 'moveRedisToSqs'>;

  constructor(
    api: KubeApi,
    events: EventRecorder,
    notifier: TransitionNotifier,
    queues: Pick<QueueFigures, 'sqsSweeper' | 'moveRedisToSqs'>,
  ) {
    this.api = api;
    this.events = events;
    this.notifier = notifier;
    this.queues = queues;
  }

  /**
   * Events of history entries already in status whose Event this process has not seen: a failure
   * between the status write and the Event (a refused patch, a crash) would otherwise lose them.
   */
  async catchUpEvents(migration: MigrationObject, history: readonly HistoryEntry[]): Promise<void> {
    await this.events.recordHistory(migration.metadata.namespace, ownerOf(migration), history, eventType);
  }

  async run(migration: MigrationObject, actions: readonly Action[]): Promise<void> {
    let current = migration;
    let statusWritten = false;
    try {
      for (const action of actions) {
        if (action.kind === 'notify') continue;
        current = await this.perform(current, action);
        if (action.kind === 'writeStatus') statusWritten = true;
      }
    } finally {
      // Transitions in the written status are announced even when a later patch failed (that
      // patch is retried, the transition is not): notifications never hold up or stop the rest.
      if (statusWritten) {
        for (const action of actions) if (action.kind === 'notify') await this.perform(current, action);
      }
    }
  }

  private async setFinalizers(migration: MigrationObject, finalizers: string[]): Promise<MigrationObject> {
    const { namespace, name, resourceVersion } = migration.metadata;
    return this.api.request<MigrationObject>('PATCH', paths.migration(namespace, name), {
      contentType: CONTENT_TYPES.mergePatch,
      body: { metadata: { finalizers, resourceVersion } },
    });
  }

  private async perform(migration: MigrationObject, action: Action): Promise<MigrationObject> {
    const { namespace, name } = migration.metadata;
    switch (action.kind) {
      case 'addFinalizer':
        return this.setFinalizers(migration, [...(migration.metadata.finalizers ?? []), FINALIZER]);
      case 'removeFinalizer':
        return this.setFinalizers(
          migration,
          (migration.metadata.finalizers ?? []).filter((f) => f !== FINALIZER),
        );
      case 'writeStatus':
        // A full update of the status subresource, guarded by resourceVersion: fields the new status
        // drops are dropped, and a status computed from a stale read is refused (409), not written.
        return this.api.request<MigrationObject>('PUT', paths.migrationStatus(namespace, name), {
          body: { ...migration, status: action.status },
        });
      case 'applySettings':
        await this.api.request('PATCH', paths.deployment(namespace, action.deployment), {
          contentType: CONTENT_TYPES.apply,
          query: APPLY,
          body: settingsApplyConfiguration(namespace, action.deployment, action.container, action.settings),
        });
        return migration;
      case 'applyCanary': {
        const producer = await this.api.request<V1Deployment>(
          'GET',
          paths.deployment(namespace, action.producer),
        );
        await this.refuseForeignCanary(migration, action.name);
        await this.api.request('PATCH', paths.deployment(namespace, action.name), {
          contentType: CONTENT_TYPES.apply,
          query: APPLY,
          body: canaryApplyConfiguration(producer, action, ownerOf(migration)),
        });
        return migration;
      }
      case 'deleteCanary':
        await unlessKubeError('KUBE_API_NOT_FOUND', () =>
          this.api.request('DELETE', paths.deployment(namespace, action.name), {
            body: {
              apiVersion: 'v1',
              kind: 'DeleteOptions',
              preconditions: {},
              propagationPolicy: 'Background',
            },
          }),
        );
        return migration;
      case 'recordEvent':
        await this.events.record(namespace, ownerOf(migration), action.entry, action.type);
        return migration;
      case 'notify':
        await this.notifier.send(
          action.url,
          notificationOf(namespace, ownerOf(migration), action.entry, action.phase),
        );
        return migration;
      case 'sweepSqs':
        return this.sweepSqs(migration, action);
      case 'moveRedisToSqs':
        // What moved (or why nothing did) reaches status through the next pass's observations.
        await this.queues.moveRedisToSqs(keyOf(migration), queueMigrationSpec.parse(migration.spec), action);
        return migration;
      case 'deleteSqsQueue':
        await this.queues
          .sqsSweeper(keyOf(migration), queueMigrationSpec.parse(migration.spec))
          .deleteQueue();
        return migration;
    }
  }

  /**
   * What a sweep moved is known only once it ran, after the pass's status was written: it is added
   * to the counters by one more status write, guarded by resourceVersion like every write. A failed
   * sweep still counts what it moved before failing, then fails the reconcile (retried with backoff).
   */
  private async sweepSqs(
    migration: MigrationObject,
    action: Extract<Action, { kind: 'sweepSqs' }>,
  ): Promise<MigrationObject> {
    const sweeper = this.queues.sqsSweeper(keyOf(migration), queueMigrationSpec.parse(migration.spec));
    const { moved, failure } = await sweeper.sweep(action.maxMessages);
    let current = migration;
    if (moved.fromQueue + moved.fromDeadLetterQueue > 0) {
      const { namespace, name } = migration.metadata;
      const status = {
        ...(migration.status as object),
        sweep: countersAfter(action.counted, moved, action.at),
      };
      current = await this.api.request<MigrationObject>('PUT', paths.migrationStatus(namespace, name), {
        body: { ...migration, status },
      });
    }
    if (failure !== undefined) throw failure;
    return current;
  }

  private async refuseForeignCanary(migration: MigrationObject, canary: string): Promise<void> {
    const { namespace, uid } = migration.metadata;
    const existing = await unlessKubeError('KUBE_API_NOT_FOUND', () =>
      this.api.request<V1Deployment>('GET', paths.deployment(namespace, canary)),
    );
    if (existing !== undefined && existing.metadata?.ownerReferences?.some((o) => o.uid === uid) !== true) {
      throw new ActionError(
        'CANARY_NAME_TAKEN',
        `Deployment ${namespace}/${canary} exists and is not owned by QueueMigration ${migration.metadata.name}`,
      );
    }
  }
}

function countersAfter(counted: SweepCounters, moved: SweepCounts, at: string): SweepCounters {
  return {
    movedFromQueue: counted.movedFromQueue + moved.fromQueue,
    movedFromDeadLetterQueue: counted.movedFromDeadLetterQueue + moved.fromDeadLetterQueue,
    lastMovedAt: at,
  };
}
