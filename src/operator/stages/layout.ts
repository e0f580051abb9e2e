import type { QueueMigrationSpec } from '../api/spec-schema.ts';
import type { StageName } from '../api/stages-schema.ts';
import type { RollbackStep } from '../api/status-schema.ts';
import type { ConsumerMode, ProducerMode } from './container-settings.ts';

/** How every Deployment is configured at one point of the migration. */
export interface Layout {
  producers: ProducerMode;
  consumers: ConsumerMode;
  /** Percentage of producer pods that run as canaries; absent when no canary runs. */
  canaryWeight?: number;
}

export const ORIGINAL_LAYOUT: Layout = { producers: 'original', consumers: 'original' };

/**
 * Forward stages. `full` and `cleanup` have two steps each: in `full`, step 0 moves the producers
 * and step 1 the consumers (after SQS drained); in `cleanup`, step 1 removes the SQS fallback.
 * The `redis` mode removes the SQS settings too, so consumers lose them at `full` step 1 and
 * producers at `cleanup` step 1.
 */
export function forwardLayout(spec: QueueMigrationSpec, stage: StageName, step: number): Layout {
  switch (stage) {
    case 'dual':
    case 'staging':
      return { producers: 'sqs-with-redis-fallback', consumers: 'dual' };
    case 'canary':
      return {
        producers: 'sqs-with-redis-fallback',
        consumers: 'dual',
        canaryWeight: spec.stages.canary.steps[step]?.weight ?? 0,
      };
    case 'full':
      return { producers: 'redis-with-sqs-fallback', consumers: step === 0 ? 'dual' : 'redis' };
    case 'cleanup':
      return { producers: step === 0 ? 'redis-with-sqs-fallback' : 'redis', consumers: 'redis' };
  }
}

/** The number of steps of a stage. */
export function stepCount(spec: QueueMigrationSpec, stage: StageName): number {
  if (stage === 'canary') return spec.stages.canary.steps.length;
  return stage === 'full' || stage === 'cleanup' ? 2 : 1;
}

/**
 * Rollback, ordered so that every queue that can receive messages always has a reader: consumers
 * read both queues before producers go back to SQS, and leave Redis only once it is drained.
 */
export function rollbackLayout(step: RollbackStep, from: Layout): Layout {
  switch (step) {
    case 'consumers-to-dual':
      return { ...from, consumers: 'dual' };
    case 'producers-to-original':
    case 'drain-redis':
      return { producers: 'original', consumers: 'dual' };
    case 'consumers-to-original':
      return ORIGINAL_LAYOUT;
  }
}

/**
 * Canary pods for a weight: the Service spreads requests over ready pods, so `weight` percent of
 * the pods is `weight` percent of the traffic. At least one pod while the producers run at all.
 */
export function canaryReplicas(producerReplicas: number, weight: number): number {
  if (producerReplicas === 0 || weight <= 0) return 0;
  return Math.max(1, Math.round((producerReplicas * weight) / (100 - weight)));
}

export function canaryName(producer: string): string {
  return `${producer}-canary`;
}
