import type { Known } from '../../adapter/types.ts';
import { durationMs } from '../api/durations.ts';
import type { StageName } from '../api/stages-schema.ts';
import type { QueueMigrationStatus, SweepCounters } from '../api/status-schema.ts';
import { analysisWaits } from './analysis-step.ts';
import { forwardLayout, stepCount } from './layout.ts';
import type { SqsRemainder } from './observations.ts';
import type { Pass } from './pass.ts';
import { EVERYTHING, layoutWaits, resolveLayout } from './resolved-layout.ts';
import type { TransitionReason } from './transition-reasons.ts';

/** What a stage step waits for besides rollouts: promote skips `soft`, never `hard`. */
interface StepRules {
  /** How long every gate must stay green. */
  durationMs: number;
  approval: boolean;
  hard: string[];
  /** Cleanup's final sweep: SQS and its DLQ must read empty once the Deployments rolled out. */
  finalSweep?: boolean;
}

/** Messages one pass sweeps at most: the sweep holds its migration's reconcile while it runs. */
export const SWEEP_BATCH = 100;
/** While SQS holds stragglers (or the queue is being deleted), look again this soon. */
const SWEEP_AGAIN_MS = 1_000;
const NOTHING_SWEPT: SweepCounters = { movedFromQueue: 0, movedFromDeadLetterQueue: 0 };

/**
 * From full step 1 (consumers read only Redis) to the end of cleanup, nothing reads SQS any more:
 * what lands there (producers still fall back to it, dead letters of earlier failures) is swept
 * into Redis by the operator.
 */
function sweepsSqs(stage: StageName | undefined, step: number | undefined): boolean {
  return (stage === 'full' && (step ?? 0) >= 1) || stage === 'cleanup';
}

/**
 * Whether a pass at `status` sweeps SQS. A hold (spec.paused, an analysis pause, a field conflict,
 * a failed gate without automatic rollback) stops the migration's progress, never its data safety:
 * the sweep stays the only reader of what lands in SQS, paused or not.
 */
export function sweepsSqsAt(status: Pick<QueueMigrationStatus, 'phase' | 'stage' | 'step'>): boolean {
  return (
    (status.phase === 'Progressing' || status.phase === 'Paused') && sweepsSqs(status.stage, status.step)
  );
}

function stepRules(pass: Pass, stage: StageName, step: number): StepRules {
  const { stages } = pass.spec;
  switch (stage) {
    case 'dual':
      return { durationMs: durationMs(stages.dual.duration), approval: stages.dual.approval, hard: [] };
    case 'staging':
      return {
        durationMs: durationMs(stages.staging.duration),
        approval: stages.staging.approval,
        hard: rehearsalWait(pass),
      };
    case 'canary': {
      const canary = stages.canary.steps[step];
      return {
        durationMs: durationMs(canary?.duration ?? '0s'),
        approval: canary?.approval ?? false,
        hard: [],
      };
    }
    case 'full':
      return step === 0
        ? { durationMs: 0, approval: false, hard: sqsDrainWait(pass) }
        : { durationMs: durationMs(stages.full.bakeTime), approval: stages.full.approval, hard: [] };
    case 'cleanup':
      return step === 0
        ? { durationMs: durationMs(stages.cleanup.stabilityWindow), approval: false, hard: [] }
        : { durationMs: 0, approval: false, hard: [], finalSweep: true };
  }
}

function rehearsalWait(pass: Pass): string[] {
  const rehearsal = pass.spec.stages.staging.rehearsal;
  if (rehearsal === undefined) return [];
  const phase = pass.observations.rehearsal;
  if (phase === 'Succeeded') return [];
  return [`rehearsal QueueMigration ${rehearsal} to succeed (it is ${phase ?? 'not observed yet'})`];
}

/**
 * Waits until SQS reads empty in every sample over the drain window. Real SQS counts lag by about a
 * minute, so one zero reading proves nothing; the window starts with the first empty sample and any
 * non-empty or unknown one (`notEmpty` says which) restarts it.
 */
function heldEmpty(pass: Pass, what: string, notEmpty: string | undefined): string[] {
  const { status } = pass;
  const window = pass.spec.stages.full.drainWindow;
  const windowMs = durationMs(window);
  if (notEmpty !== undefined) {
    delete status.sqsEmptySince;
    return [`${what} to read empty for ${window} (${notEmpty})`];
  }
  status.sqsEmptySince ??= pass.nowIso;
  const emptyFor = pass.since(status.sqsEmptySince);
  if (emptyFor >= windowMs) return [];
  pass.wakeUpAt(pass.now + windowMs - emptyFor);
  return [`${what} to read empty for ${window} (depth 0 since ${status.sqsEmptySince})`];
}

/** Consumers may leave SQS only once it held empty over the drain window. */
function sqsDrainWait(pass: Pass): string[] {
  const depth = pass.observations.sqsDepth;
  const notEmpty =
    depth === undefined
      ? 'no sample yet'
      : !depth.known
        ? depth.reason
        : depth.value === 0
          ? undefined
          : `depth ${depth.value}`;
  return heldEmpty(pass, 'SQS', notEmpty);
}

/** Messages a reading shows: a queue that is gone and a DLQ that does not exist hold none. */
function depthOf(reading: Known<number> | 'gone' | 'none'): Known<number> {
  return typeof reading === 'string' ? { known: true, value: 0 } : reading;
}

/** What keeps the remainder from reading empty, in words; undefined when it is empty. */
function leftover(remainder: SqsRemainder | undefined): string | undefined {
  if (remainder === undefined) return 'no sample yet';
  // Only the queue redrives into its DLQ: with the queue gone, nothing can land in either.
  if (remainder.queue === 'gone') return undefined;
  const parts = (
    [
      ['queue', depthOf(remainder.queue)],
      ['dead-letter queue', depthOf(remainder.deadLetters)],
    ] as const
  ).flatMap(([what, depth]) => {
    if (!depth.known) return [`${what} unknown: ${depth.reason}`];
    return depth.value === 0 ? [] : [`${what} depth ${depth.value}`];
  });
  return parts.length === 0 ? undefined : parts.join('; ');
}

/**
 * Cleanup's final sweep: once no producer pod with the SQS fallback is left, SQS and its DLQ must
 * hold empty over the drain window (the sweeps of each pass empty them meanwhile).
 */
function finalSweepWait(pass: Pass, rolledOut: boolean): string[] {
  if (!rolledOut) {
    delete pass.status.sqsEmptySince;
    return [];
  }
  return heldEmpty(
    pass,
    'the final sweep: SQS and its dead-letter queue',
    leftover(pass.observations.sqsRemainder),
  );
}

/**
 * A bounded sweep while SQS or its DLQ holds anything and consumers read only Redis; asked for once
 * per pass, after the pass moved on or held still.
 */
export function sweepStragglers(pass: Pass): void {
  const { status } = pass;
  const remainder = pass.observations.sqsRemainder;
  if (!sweepsSqsAt(status) || remainder === undefined) return;
  const waiting = [depthOf(remainder.queue), depthOf(remainder.deadLetters)].some(
    (d) => d.known && d.value > 0,
  );
  if (!waiting) return;
  pass.queueActions.push({
    kind: 'sweepSqs',
    maxMessages: SWEEP_BATCH,
    counted: status.sweep ?? NOTHING_SWEPT,
    at: pass.nowIso,
  });
  pass.wakeUpAt(pass.now + SWEEP_AGAIN_MS);
}

/**
 * Deletes the swept queue when the spec asks, recording the decision in status first (no rollback
 * after it); the migration succeeds once the queue is seen gone, and asks again until then.
 */
function queueDeletion(pass: Pass): string[] {
  const { status, spec } = pass;
  if (!spec.stages.cleanup.deleteQueue || pass.observations.sqsRemainder?.queue === 'gone') return [];
  if (status.queueDeletedAt === undefined) {
    status.queueDeletedAt = pass.nowIso;
    pass.record(
      'QueueDeleted',
      `SQS queue ${spec.sqs.queueUrl} swept empty: deleting it (its dead-letter queue is kept); no rollback from here`,
    );
  }
  pass.queueActions.push({ kind: 'deleteSqsQueue' });
  pass.wakeUpAt(pass.now + SWEEP_AGAIN_MS);
  return [`SQS queue ${spec.sqs.queueUrl} to be gone`];
}

interface Next {
  stage: StageName;
  step: number;
  reason: TransitionReason;
}

function nextOf(pass: Pass, stage: StageName, step: number): Next | 'done' {
  if (step + 1 < stepCount(pass.spec, stage)) {
    const reason: TransitionReason =
      stage === 'canary' ? 'CanaryStepStarted' : stage === 'full' ? 'ConsumersSwitched' : 'FallbackRemoved';
    return { stage, step: step + 1, reason };
  }
  switch (stage) {
    case 'dual':
      return { stage: 'staging', step: 0, reason: 'StagingStarted' };
    case 'staging':
      return { stage: 'canary', step: 0, reason: 'CanaryStepStarted' };
    case 'canary':
      return { stage: 'full', step: 0, reason: 'FullStarted' };
    case 'full':
      return { stage: 'cleanup', step: 0, reason: 'CleanupStarted' };
    case 'cleanup':
      return 'done';
  }
}

export function stepLabel(pass: Pass, stage: StageName, step: number): string {
  const count = stepCount(pass.spec, stage);
  return count > 1 ? `${stage} step ${step + 1}/${count}` : stage;
}

function describeEntry(pass: Pass, next: Next): string {
  const weight = pass.spec.stages.canary.steps[next.step]?.weight;
  switch (next.reason) {
    case 'StagingStarted':
      return 'staging: rehearsal before any producer switches';
    case 'CanaryStepStarted':
      return `canary step ${next.step + 1}: ${weight ?? 0}% of producer pods publish to Redis`;
    case 'FullStarted':
      return 'full: producers publish to Redis with SQS as fallback; canaries removed';
    case 'ConsumersSwitched':
      return 'full: SQS drained; consumers read only Redis';
    case 'CleanupStarted':
      return `cleanup: stability window of ${pass.spec.stages.cleanup.stabilityWindow}`;
    default:
      return 'cleanup: producers no longer fall back to SQS';
  }
}

export interface ProgressOutcome {
  /** Why the current step does not move on, in words; empty when it moved to its end. */
  waiting: string[];
  awaitingApproval: boolean;
}

/**
 * One step forward if the current step passed: its Deployments carry their settings and rolled
 * out, its hard waits are over, and either a promote token covers it or every gate stayed green
 * for the step's duration (and an approval, when asked, came as a promote token).
 */
function advanceOnce(pass: Pass): ProgressOutcome | 'advanced' {
  const { status, observations } = pass;
  const stage = status.stage ?? 'dual';
  const step = status.step ?? 0;
  const rules = stepRules(pass, stage, step);
  const resolved = resolveLayout(pass, forwardLayout(pass.spec, stage, step));
  const layout = layoutWaits(resolved, EVERYTHING, observations.verdicts);
  const hard = [
    ...layout,
    ...observations.verdicts.filter((v) => !v.promotable && v.verdict !== 'success').map((v) => v.message),
    ...rules.hard,
    ...(rules.finalSweep === true ? finalSweepWait(pass, layout.length === 0) : []),
  ];
  const soft = [
    ...observations.verdicts.filter((v) => v.promotable && v.verdict !== 'success').map((v) => v.message),
    ...analysisWaits(pass),
  ];
  const promoted = status.promoted?.stage === stage && status.promoted.step === step;
  if (hard.length > 0 || soft.length > 0) delete status.greenSince;
  else status.greenSince ??= pass.nowIso;

  if (hard.length > 0) return { waiting: [...new Set(hard)], awaitingApproval: false };
  if (!promoted) {
    if (soft.length > 0) return { waiting: soft, awaitingApproval: false };
    const greenFor = pass.since(status.greenSince);
    if (greenFor < rules.durationMs) {
      pass.wakeUpAt(pass.now + rules.durationMs - greenFor);
      return {
        waiting: [`gates green for ${Math.ceil(rules.durationMs / 1_000)}s`],
        awaitingApproval: false,
      };
    }
    if (rules.approval)
      return { waiting: ['approval: annotate queueshift.dev/promote=<token>'], awaitingApproval: true };
  }
  const next = nextOf(pass, stage, step);
  if (next === 'done') {
    const deleting = queueDeletion(pass);
    if (deleting.length > 0) return { waiting: deleting, awaitingApproval: false };
    status.phase = 'Succeeded';
    const queue = status.queueDeletedAt === undefined ? 'SQS queue kept' : 'SQS queue deleted';
    pass.record('Succeeded', `every Deployment runs on Redis; SQS fallback removed; ${queue}`);
    return 'advanced';
  }
  pass.enter(next.stage, next.step);
  pass.record(next.reason, describeEntry(pass, next));
  return 'advanced';
}

/** More steps than a migration has: a bound, since each step waits for its own rollout anyway. */
const MAX_STEPS_PER_PASS = 16;

/** Moves forward as far as the evidence allows in this pass. */
export function progress(pass: Pass): ProgressOutcome {
  let outcome: ProgressOutcome = { waiting: [], awaitingApproval: false };
  for (let i = 0; i < MAX_STEPS_PER_PASS; i += 1) {
    const step = advanceOnce(pass);
    if (step !== 'advanced') {
      outcome = step;
      break;
    }
    if (pass.status.phase === 'Succeeded') break;
  }
  return outcome;
}
