import { durationMs } from '../api/durations.ts';
import { ROLLBACK_STEPS, type RollbackStep } from '../api/status-schema.ts';
import { forwardLayout, ORIGINAL_LAYOUT, rollbackLayout, type Layout } from './layout.ts';
import type { Pass } from './pass.ts';
import { layoutWaits, resolveLayout, type Scope } from './resolved-layout.ts';
import type { TransitionReason } from './transition-reasons.ts';

const STEP_REASONS: Record<RollbackStep, TransitionReason> = {
  'consumers-to-dual': 'RollbackConsumersToDual',
  'producers-to-original': 'RollbackProducersToOriginal',
  'drain-redis': 'RollbackDrainRedis',
  'consumers-to-original': 'RollbackConsumersToOriginal',
};

const STEP_DESCRIPTIONS: Record<RollbackStep, string> = {
  'consumers-to-dual': 'consumers read both queues again',
  'producers-to-original': 'canaries removed; producers back to their original settings (SQS)',
  'drain-redis': 'waiting for the Redis backlog to drain',
  'consumers-to-original': 'consumers back to their original settings',
};

/** What each step waits on: its Deployments' settings and rollouts (canaries gone with producers). */
const STEP_SCOPES: Record<RollbackStep, Scope> = {
  'consumers-to-dual': { producers: false, consumers: true, canaries: false },
  'producers-to-original': { producers: true, consumers: false, canaries: true },
  'drain-redis': { producers: false, consumers: false, canaries: false },
  'consumers-to-original': { producers: false, consumers: true, canaries: false },
};

const MAX_RETRY_BACKOFF_MS = 300_000;

/** The layout the rollback started from: the stage and step it interrupted. */
function fromLayout(pass: Pass): Layout {
  const { stage, rollback } = pass.status;
  return stage === undefined ? ORIGINAL_LAYOUT : forwardLayout(pass.spec, stage, rollback?.fromStep ?? 0);
}

/** The layout of the rollback step in progress. */
export function currentRollbackLayout(pass: Pass): Layout {
  return rollbackLayout(pass.status.rollback?.step ?? 'consumers-to-dual', fromLayout(pass));
}

function enterStep(pass: Pass, step: RollbackStep): void {
  const rollback = pass.status.rollback;
  if (rollback === undefined) return;
  rollback.step = step;
  rollback.stepStartedAt = pass.nowIso;
  rollback.failures = 0;
  delete rollback.retryAt;
  pass.record(STEP_REASONS[step], `rollback: ${STEP_DESCRIPTIONS[step]}`);
}

/** Starts the path back to SQS from wherever the migration is. */
export function startRollback(pass: Pass, reason: string): void {
  const { status } = pass;
  status.phase = 'RollingBack';
  status.rollback = {
    step: 'consumers-to-dual',
    reason,
    startedAt: pass.nowIso,
    stepStartedAt: pass.nowIso,
    fromStep: status.step ?? 0,
    failures: 0,
  };
  delete status.greenSince;
  delete status.sqsEmptySince;
  delete status.promoted;
  delete status.conflict;
  pass.record('RollbackStarted', reason);
  // Consumers that never left SQS need no step back to dual: they read both queues already.
  if (fromLayout(pass).consumers === 'redis') enterStep(pass, 'consumers-to-dual');
  else enterStep(pass, 'producers-to-original');
}

function drainWait(pass: Pass): string[] {
  const backlog = pass.observations.redisBacklog;
  if (backlog?.known === true && backlog.value === 0) return [];
  const reading =
    backlog === undefined ? 'no sample yet' : backlog.known ? `backlog ${backlog.value}` : backlog.reason;
  return [`the Redis backlog to read 0 with lag known (${reading})`];
}

/**
 * A failing step (a rollout that does not become healthy) is reported, and looked at again with a
 * doubling backoff; it is never skipped, since the next step would leave a queue without reader.
 */
function reportFailure(pass: Pass, step: RollbackStep, failures: string[]): void {
  const rollback = pass.status.rollback;
  if (rollback === undefined) return;
  const due = rollback.retryAt === undefined || Date.parse(rollback.retryAt) <= pass.now;
  if (due) {
    rollback.failures += 1;
    const backoff = Math.min(
      durationMs(pass.spec.rollback.retryBackoff) * 2 ** (rollback.failures - 1),
      MAX_RETRY_BACKOFF_MS,
    );
    rollback.retryAt = new Date(pass.now + backoff).toISOString();
    pass.record(
      'RollbackStepFailing',
      `rollback step ${step} failing (attempt ${rollback.failures}): ${failures.join('; ')}`,
    );
  }
  pass.wakeUpAt(Date.parse(rollback.retryAt ?? pass.nowIso));
}

/** Goes back as far as the evidence allows in this pass; returns what the current step waits for. */
export function rollBack(pass: Pass): string[] {
  const { status, observations } = pass;
  for (;;) {
    const rollback = status.rollback;
    if (rollback === undefined) return [];
    const step = rollback.step;
    const resolved = resolveLayout(pass, currentRollbackLayout(pass));
    const scope = STEP_SCOPES[step];
    const subjects = new Set(
      [
        ...resolved.targets.filter((t) => (t.role === 'producer' ? scope.producers : scope.consumers)),
        ...(scope.canaries ? resolved.canaries : []),
      ].map((t) => t.name),
    );
    const failures = observations.verdicts
      .filter((v) => v.verdict === 'failure' && v.subject !== undefined && subjects.has(v.subject))
      .map((v) => v.message);
    if (failures.length > 0) {
      reportFailure(pass, step, failures);
      return failures;
    }
    delete rollback.retryAt;
    const waits = [
      ...layoutWaits(resolved, scope, observations.verdicts),
      ...(step === 'drain-redis' ? drainWait(pass) : []),
    ];
    if (waits.length > 0) return waits;
    const next = ROLLBACK_STEPS[ROLLBACK_STEPS.indexOf(step) + 1];
    if (next === undefined) {
      status.phase = 'RolledBack';
      pass.record('RolledBack', `rolled back: ${rollback.reason}`);
      return [];
    }
    enterStep(pass, next);
  }
}
