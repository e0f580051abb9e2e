import { z } from 'zod';
import { STAGES } from './stages-schema.ts';

/**
 * Everything the operator knows lives here, so that a restarted operator continues exactly where
 * the last one stopped. Lists are bounded (history keeps the latest entries).
 */

export const PHASES = ['Pending', 'Progressing', 'Paused', 'RollingBack', 'RolledBack', 'Succeeded'] as const;
export type Phase = (typeof PHASES)[number];

/** Where a migration rests: nothing more runs for it until its object changes (a retry, a deletion). */
export function isFinalPhase(phase: Phase | undefined): boolean {
  return phase === 'RolledBack' || phase === 'Succeeded';
}

export const ROLLBACK_STEPS = [
  'consumers-to-dual',
  'producers-to-original',
  'drain-redis',
  'consumers-to-original',
] as const;
export type RollbackStep = (typeof ROLLBACK_STEPS)[number];

export const MAX_HISTORY = 50;

const timestamp = (what: string): z.ZodISODateTime => z.iso.datetime().max(64).describe(what);
const text = (what: string, max = 1_024): z.ZodString => z.string().max(max).describe(what);
const count = (what: string): z.ZodNumber =>
  z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).describe(what);

const keyRef = z.object({ name: text('Name.', 253), key: text('Key.', 253) });

/** An env entry as found in the Deployment before the first change: a literal or a reference. */
export const recordedEnvVar = z
  .object({
    name: text('Variable name.', 256),
    value: text('Literal value.', 4_096).optional(),
    valueFrom: z
      .object({
        secretKeyRef: keyRef.optional(),
        configMapKeyRef: keyRef.optional(),
        fieldRef: z.object({ fieldPath: text('Downward API field path.', 256) }).optional(),
      })
      .optional()
      .describe('Where the value came from, when it was not a literal.'),
  })
  .describe('One variable of the managed container, as it was.');

export type RecordedEnvVar = z.output<typeof recordedEnvVar>;

export const originalSettings = z
  .object({
    deployment: text('Deployment name.', 253),
    container: text('Container name.', 63),
    role: z.enum(['producer', 'consumer']).describe('What the Deployment does in the pipeline.'),
    env: z
      .array(recordedEnvVar)
      .max(64)
      .describe('The container’s queue variables before the migration (only those the operator manages).'),
  })
  .describe('Settings of one Deployment before the migration changed anything.');

export type OriginalSettings = z.output<typeof originalSettings>;

export const historyEntry = z
  .object({
    seq: count('Sequence number; also names the Event of this entry.'),
    at: timestamp('When it happened.'),
    reason: text('Reason, the same as the Event’s.', 64),
    stage: z.enum(STAGES).optional().describe('Stage at the time.'),
    step: count('Step within the stage.').optional(),
    message: text('What happened.'),
  })
  .describe('One transition.');

export type HistoryEntry = z.output<typeof historyEntry>;

export const gateResult = z
  .object({
    gate: text('Gate that produced the verdict.', 63),
    subject: text('What was measured (a Deployment, a stream).', 253).optional(),
    verdict: z.enum(['success', 'failure', 'inconclusive', 'error']).describe('Outcome.'),
    metric: text('Metric name.', 128),
    value: text('Measured value.', 256).optional(),
    threshold: text('What the value had to satisfy.', 256).optional(),
    message: text('Explanation.'),
  })
  .describe('Latest verdict of one gate.');

export const METRIC_VERDICTS = ['success', 'failure', 'inconclusive', 'error'] as const;

export const metricState = z
  .object({
    name: text('Metric name.', 63),
    verdict: z.enum(METRIC_VERDICTS).describe('Verdict of the latest measurement.'),
    value: text('Latest measured value.', 64).optional(),
    threshold: text('What the value had to satisfy.', 64).optional(),
    message: text('The latest measurement in words.'),
    raw: z
      .number()
      .optional()
      .describe('Latest reading of a cumulative figure (a dead-letter count), the next round’s baseline.'),
    successes: count('Successful measurements in this step.'),
    failures: count('Failed measurements in this step.'),
    inconclusives: count('Inconclusive (no data) measurements in this step.'),
    errors: count('Measurements the provider could not answer in this step.'),
    consecutiveErrors: count('Errors since the last answered measurement.'),
  })
  .describe('Counters and latest measurement of one metric.');

export type MetricState = z.output<typeof metricState>;

export const probeRoundStatus = z
  .object({
    round: count('The analysis round the probes measure; it is counted once they are judged.'),
    sentAt: timestamp('When the probes were published; probes.timeout runs from here.'),
    probes: z
      .array(
        z.object({
          deliveryId: text('The probe’s delivery id.', 253),
          route: z.enum(['stream', 'http']).describe('Published into the stream, or sent to the producers.'),
          roundTripMs: count(
            'From sentAt to when a worker marked it done, dated from the done mark’s time to live (to the check that found it when that date cannot be right).',
          ).optional(),
        }),
      )
      .max(21)
      .meta({
        description: 'One entry per probe of the round.',
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-list-map-keys': ['deliveryId'],
      }),
  })
  .describe('Probes sent for a round and not judged yet: a restarted operator checks these same probes.');

export type ProbeRoundStatus = z.output<typeof probeRoundStatus>;

export const analysisStatus = z
  .object({
    stage: z.enum(STAGES).describe('Stage the counters belong to.'),
    step: count('Step the counters belong to; they start again at every step.'),
    round: count('Latest measured round: round n covers the n-th interval since the step started.'),
    window: z
      .object({ start: timestamp('Start of the window.'), end: timestamp('End of the window.') })
      .describe('Window of the latest round; PromQL queries are evaluated at its end.'),
    metrics: z
      .array(metricState)
      .max(32)
      .meta({
        description: 'One entry per metric that applies to the step.',
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-list-map-keys': ['name'],
      }),
    probes: probeRoundStatus.optional(),
  })
  .describe('Analysis of the current step: pinned window, values, verdicts and counters.');

export type AnalysisStatus = z.output<typeof analysisStatus>;

export const condition = z
  .object({
    type: text('Condition type.', 64),
    status: z.enum(['True', 'False', 'Unknown']).describe('Condition status.'),
    reason: text('Machine-readable reason, CamelCase.', 64),
    message: text('Human-readable explanation.'),
    lastTransitionTime: timestamp('When status last changed.'),
    observedGeneration: count('Spec generation the condition was computed from.'),
  })
  .describe('A condition in the usual Kubernetes shape.');

export type Condition = z.output<typeof condition>;

export const redisDrainStatus = z
  .object({
    lowestBacklog: count('Lowest Redis backlog read since the step began.').optional(),
    progressAt: timestamp('When the backlog last went below its lowest reading (or the step began).'),
    moverStartedAt: timestamp(
      'When the operator began moving entries to SQS itself, consumers having made no progress for ' +
        'spec.rollback.drainTimeout.',
    ).optional(),
    moved: count('Entries the operator moved from the stream to SQS.'),
    lastMovedAt: timestamp('When the operator last moved an entry.').optional(),
    moverError: text('Why the latest move failed, while it does.').optional(),
    tally: z
      .object({
        mover: text('The mover instance (one per operator process and migration).', 64),
        moved: count('Entries that instance had moved when last seen.'),
      })
      .optional()
      .describe('The mover’s own count when status last took it in, so that nothing is counted twice.'),
  })
  .describe('Progress of the rollback’s Redis drain, and the operator’s own moves to SQS.');

export type RedisDrainStatus = z.output<typeof redisDrainStatus>;

export const PREFLIGHT_OUTCOMES = ['ok', 'warning', 'failed'] as const;
export type PreflightOutcome = (typeof PREFLIGHT_OUTCOMES)[number];

export const preflightStatus = z
  .object({
    checkedAt: timestamp('When the checks last ran.'),
    passedAt: timestamp(
      'When every check passed (warnings allowed); pinned: the checks do not run again.',
    ).optional(),
    checks: z
      .array(
        z.object({
          name: text('Check name.', 63),
          outcome: z
            .enum(PREFLIGHT_OUTCOMES)
            .describe('ok, warning (reported) or failed (blocks the start).'),
          message: text('What was found, and what to fix when it failed.'),
        }),
      )
      .max(16)
      .meta({
        description: 'One entry per check.',
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-list-map-keys': ['name'],
      }),
  })
  .describe('Checks made before the first Deployment patch (the start of `dual`).');

export type PreflightStatus = z.output<typeof preflightStatus>;
export type PreflightCheck = PreflightStatus['checks'][number];

export const queueMigrationStatus = z
  .object({
    observedGeneration: count('Spec generation the status was computed from.').optional(),
    phase: z.enum(PHASES).optional().describe('Where the migration as a whole is.'),
    stage: z.enum(STAGES).optional().describe('Current stage (the stage a rollback started from).'),
    step: count(
      'Step within the stage: the canary step, or 1 once full/cleanup switched consumers/fallback.',
    ).optional(),
    message: text('Summary of the latest decision; shown by `kubectl get qm -o wide`.').optional(),
    backlog: count('Redis backlog (lag + pending), when known.').optional(),
    errorRate: text('Error rate of the current stage, as measured by analysis.', 32).optional(),
    startedAt: timestamp(
      'When the original settings were recorded; targets are fixed from then on.',
    ).optional(),
    stageStartedAt: timestamp('When the current stage was entered.').optional(),
    stepStartedAt: timestamp('When the current step was entered.').optional(),
    greenSince: timestamp('Since when every gate has been green without interruption.').optional(),
    sqsEmptySince: timestamp(
      'Since when every SQS depth sample has read 0 (full stage; cleanup’s final sweep, with the DLQ).',
    ).optional(),
    sweep: z
      .object({
        movedFromQueue: count('SQS messages moved into the stream.'),
        movedFromDeadLetterQueue: count('SQS dead letters moved to `<stream>:dlq`, with their reasons.'),
        lastMovedAt: timestamp('When the latest sweep moved anything.').optional(),
      })
      .optional()
      .describe('Stragglers swept from SQS into Redis once consumers read only Redis (full, cleanup).'),
    queueDeletedAt: timestamp(
      'When cleanup decided to delete the SQS queue (spec.stages.cleanup.deleteQueue), written before ' +
        'deleting it: from then on no rollback is possible.',
    ).optional(),
    promoted: z
      .object({ stage: z.enum(STAGES), step: count('Step promoted.') })
      .optional()
      .describe('A promote token skipped the time, metric and approval waits of this stage and step.'),
    originals: z
      .array(originalSettings)
      .max(20)
      .optional()
      .describe('Written once, before the first change to any Deployment; never captured again.'),
    lastHandledTokens: z
      .object({
        promote: text('Last promote token handled.', 253).optional(),
        abort: text('Last abort token handled.', 253).optional(),
        retry: text('Last retry token handled.', 253).optional(),
      })
      .optional()
      .describe('Each control token is acted on once.'),
    rollback: z
      .object({
        step: z.enum(ROLLBACK_STEPS).describe('Current rollback step.'),
        reason: text('Why the rollback started.'),
        startedAt: timestamp('When the rollback started.'),
        stepStartedAt: timestamp('When the current step started.'),
        fromStep: count('Step of `stage` when the rollback started.'),
        failures: count('Times the current step was found failing.'),
        retryAt: timestamp('When a failing step is looked at again.').optional(),
        drain: redisDrainStatus.optional(),
      })
      .optional()
      .describe('The rollback in progress or completed.'),
    conflict: z
      .object({
        deployment: text('Deployment.', 253),
        variable: text('Variable.', 256),
        manager: text('The other field manager.', 128),
        detectedAt: timestamp('When it was seen.'),
      })
      .optional()
      .describe('Another field manager changed one of the operator’s fields; the migration is paused.'),
    analysis: analysisStatus.optional(),
    preflight: preflightStatus.optional(),
    gates: z.array(gateResult).max(64).optional().describe('Latest verdict of each gate.'),
    plan: z
      .array(text('A planned action.', 512))
      .max(64)
      .optional()
      .describe('Dry run: the actions that would run next.'),
    history: z.array(historyEntry).max(50).optional().describe(`Transitions, latest ${MAX_HISTORY}.`),
    conditions: z
      .array(condition)
      .max(16)
      .optional()
      .meta({
        description: 'Conditions, one per type.',
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-list-map-keys': ['type'],
      }),
  })
  .describe('Observed state of the migration, written only by the operator.');

export type QueueMigrationStatus = z.output<typeof queueMigrationStatus>;
export type SweepCounters = NonNullable<QueueMigrationStatus['sweep']>;
