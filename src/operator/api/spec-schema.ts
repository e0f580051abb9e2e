import { z } from 'zod';
import { analysisSettings } from './analysis-schema.ts';
import { withRules } from './cel-rule.ts';
import { duration, httpUrl } from './fields.ts';
import { redisSettings } from './redis-settings-schema.ts';
import { sqsSettings } from './sqs-settings-schema.ts';
import { stagesSettings } from './stages-schema.ts';
import { deploymentTargets } from './targets-schema.ts';

const rollbackSettings = z
  .object({
    automatic: z
      .boolean()
      .default(true)
      .describe('Roll back on a failed gate. When false, a failed gate pauses the migration instead.'),
    drainTimeout: duration(
      'How long consumers may make no progress draining Redis before the operator moves the entries to SQS itself',
      '1s',
      '10m',
    ),
    retryBackoff: duration(
      'First wait before a failed rollback step is retried (doubles, capped at 5m)',
      '1s',
      '5s',
    ),
  })
  .describe(
    'How the migration goes back to SQS: consumers to dual, producers to SQS, drain, consumers back.',
  );

export type RollbackSettings = z.output<typeof rollbackSettings>;

export const DELETION_POLICIES = ['RollBack', 'Orphan'] as const;

export const queueMigrationSpec = withRules(
  z.object({
    producers: deploymentTargets('Deployments that publish deliveries (the webhook).'),
    consumers: deploymentTargets('Deployments that consume deliveries (the workers).'),
    redis: redisSettings,
    sqs: sqsSettings,
    stages: stagesSettings.prefault({}),
    analysis: analysisSettings.prefault({}),
    rollback: rollbackSettings.prefault({}),
    deletionPolicy: z
      .enum(DELETION_POLICIES)
      .default('RollBack')
      .describe(
        'On deletion mid-migration: RollBack (default) returns every Deployment to SQS and drains Redis ' +
          'before the resource goes; Orphan leaves the Deployments as they are.',
      ),
    paused: z
      .boolean()
      .default(false)
      .describe(
        'Hold the current stage (no transition, no Deployment change). Never halts a rollback, nor the sweeps of SQS once consumers read only Redis.',
      ),
    dryRun: z
      .boolean()
      .default(false)
      .describe('Plan only: compute the next actions and report them in status.plan; change nothing.'),
    notificationUrl: httpUrl('Receives a JSON POST on every transition, rollback and pause.').optional(),
  }),
  [
    {
      cel: 'self.producers.all(p, !self.consumers.exists(c, c.name == p.name))',
      holds: (spec) => spec.producers.every((p) => !spec.consumers.some((c) => c.name === p.name)),
      message: 'a Deployment cannot be both a producer and a consumer',
      fieldPath: '.consumers',
      reason: 'FieldValueDuplicate',
    },
  ],
).describe(
  'What to migrate and how. The targets (producers, consumers, redis.endpoint, redis.stream, ' +
    'redis.group, sqs.queueUrl) cannot change once the migration has started.',
);

export type QueueMigrationSpec = z.output<typeof queueMigrationSpec>;
/** A spec as written by a user, before defaults. */
export type QueueMigrationSpecInput = z.input<typeof queueMigrationSpec>;
