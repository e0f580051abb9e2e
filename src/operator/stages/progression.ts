import { durationMs } from '../api/durations.ts';
import type { StageName } from '../api/stages-schema.ts';
import { analysisWaits } from './analysis-step.ts';
import { forwardLayout, stepCount } from './layout.ts';
import type { Pass } from './pass.ts';
import { EVERYTHING, layoutWaits, resolveLayout } from './resolved-layout.ts';
import type { TransitionReason } from './transition-reasons.ts';

/** What a stage step waits for besides rollouts: promote skips `soft`, never `hard`. */
interface StepRules {
  /** How long every gate must stay green. */
  durationMs: number;
  approval: boolean;
  hard: string[];
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
        : { durationMs: 0, approval: false, hard: [] };
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
 * Consumers may leave SQS only once every depth sample over the drain window read 0. Real SQS
 * counts lag by about a minute, so one zero reading proves nothing; the window starts with the
 * first zero and any non-zero or unknown sample restarts it.
 */
function sqsDrainWait(pass: Pass): string[] {
  const { status } = pass;
  const depth = pass.observations.sqsDepth;
  const windowMs = durationMs(pass.spec.stages.full.drainWindow);
  if (depth === undefined || !depth.known || depth.value !== 0) {
    delete status.sqsEmptySince;
    const reading =
      depth === undefined ? 'no sample yet' : depth.known ? `depth ${depth.value}` : depth.reason;
    return [`SQS to read empty for ${pass.spec.stages.full.drainWindow} (${reading})`];
  }
  status.sqsEmptySince ??= pass.nowIso;
  const emptyFor = pass.since(status.sqsEmptySince);
  if (emptyFor >= windowMs) return [];
  pass.wakeUpAt(pass.now + windowMs - emptyFor);
  return [
    `SQS to read empty for ${pass.spec.stages.full.drainWindow} (depth 0 since ${status.sqsEmptySince})`,
  ];
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
  const hard = [
    ...layoutWaits(resolved, EVERYTHING, observations.verdicts),
    ...observations.verdicts.filter((v) => !v.promotable && v.verdict !== 'success').map((v) => v.message),
    ...rules.hard,
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
    status.phase = 'Succeeded';
    pass.record('Succeeded', 'every Deployment runs on Redis; SQS fallback removed');
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
  for (let i = 0; i < MAX_STEPS_PER_PASS; i += 1) {
    const outcome = advanceOnce(pass);
    if (outcome !== 'advanced') return outcome;
    if (pass.status.phase === 'Succeeded') break;
  }
  return { waiting: [], awaitingApproval: false };
}
