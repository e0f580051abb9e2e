import { DEFAULT_CLAIM_IDLE_MS, duration } from '../../adapter/index.ts';
import { durationMs } from '../api/durations.ts';
import { ROLLBACK_STEPS, type RedisDrainStatus, type RollbackStep } from '../api/status-schema.ts';
import { setCondition } from './conditions.ts';
import { canaryName, forwardLayout, ORIGINAL_LAYOUT, rollbackLayout, type Layout } from './layout.ts';
import type { Pass } from './pass.ts';
import { carriesSettings, layoutWaits, resolveLayout, type Scope } from './resolved-layout.ts';
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

/** Entries the operator moves per pass: bounded, so that one drain never holds a worker for long. */
const MOVE_BATCH = 200;
/** While the operator moves entries, each pass moves one batch; the next pass follows this soon. */
const MOVE_INTERVAL_MS = 1_000;

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

/**
 * Once cleanup deleted the SQS queue, producers sent back to it would lose every delivery: the
 * rollback is refused, once as a history entry and Event, and for good as a condition.
 */
function refuseRollback(pass: Pass, reason: string, deletedAt: string): void {
  const refusedBefore = pass.status.conditions?.some(
    (c) => c.type === 'RollbackRefused' && c.status === 'True',
  );
  const message = `no rollback (${reason}): cleanup deleted the SQS queue at ${deletedAt}`;
  setCondition(pass, { type: 'RollbackRefused', status: 'True', reason: 'QueueDeleted', message });
  if (refusedBefore !== true) pass.record('RollbackRefused', message);
}

/** Starts the path back to SQS from wherever the migration is, unless the queue is gone. */
export function startRollback(pass: Pass, reason: string): void {
  const { status } = pass;
  if (status.queueDeletedAt !== undefined) {
    refuseRollback(pass, reason, status.queueDeletedAt);
    return;
  }
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

/** Producer pods of an older template, and canaries: either may still publish to Redis. */
function redisPublishersLeft(pass: Pass): string[] {
  const { spec, observations } = pass;
  const stale = spec.producers.flatMap(({ name }) => {
    const observed = observations.deployments.get(name);
    const old =
      observed !== undefined &&
      (observed.observedGeneration < observed.generation ||
        observed.totalReplicas > observed.updatedReplicas);
    return old ? [`the old-template pods of Deployment ${name} to be gone`] : [];
  });
  const canaries = [...observations.canaries.keys()].map(
    (producer) => `canary ${canaryName(producer)} to be gone`,
  );
  return [...stale, ...canaries];
}

/**
 * The consumers' claim time (REDIS_CLAIM_IDLE, the longest among them): a live handler's heartbeat
 * keeps its entries fresher than that, so the mover, claiming only entries idle longer, takes over
 * what a crashed or frozen consumer left and never what a running handler holds. A value the
 * operator cannot read (a reference) counts as the adapter's default.
 */
function consumerClaimIdleMs(pass: Pass): number {
  const times = pass.spec.consumers.map(({ name }) => {
    const entry = pass.observations.deployments
      .get(name)
      ?.container?.env.find((e) => e.name === 'REDIS_CLAIM_IDLE');
    const parsed = duration.safeParse(entry?.valueFrom === undefined ? entry?.value : undefined);
    return parsed.success ? parsed.data : DEFAULT_CLAIM_IDLE_MS;
  });
  return Math.max(...times);
}

/**
 * Takes in what the mover did since status last looked. The tally of a mover instance only grows;
 * a new instance (a restarted operator) starts from 0, so all of its count is new.
 */
function takeInMoves(pass: Pass, drain: RedisDrainStatus): void {
  const tally = pass.observations.redisMoves;
  if (tally === undefined) return;
  const seen = drain.tally?.mover === tally.mover ? drain.tally.moved : 0;
  // Before this drain's mover started, a tally is what earlier drains moved: a baseline, not news.
  if (drain.moverStartedAt !== undefined && tally.moved > seen) {
    drain.moved += tally.moved - seen;
    drain.lastMovedAt = pass.nowIso;
  }
  drain.tally = { mover: tally.mover, moved: tally.moved };
  if (tally.error === undefined) delete drain.moverError;
  else drain.moverError = tally.error.slice(0, 1_024);
}

/** Tracks the drain's progress: only a backlog below every earlier reading is progress. */
function trackDrain(
  pass: Pass,
  stepStartedAt: string,
  current: RedisDrainStatus | undefined,
): RedisDrainStatus {
  const drain = current ?? { progressAt: stepStartedAt, moved: 0 };
  const backlog = pass.observations.redisBacklog;
  if (backlog?.known === true) {
    if (drain.lowestBacklog !== undefined && backlog.value < drain.lowestBacklog)
      drain.progressAt = pass.nowIso;
    drain.lowestBacklog = Math.min(backlog.value, drain.lowestBacklog ?? backlog.value);
  }
  takeInMoves(pass, drain);
  return drain;
}

/**
 * Step 3 of the rollback: done once the backlog reads 0 with lag known and nothing can publish to
 * Redis any more. Consumers that make no progress for `drainTimeout` (none went below the lowest
 * reading) get help: from then on, every pass asks for a batch to be moved to SQS until the
 * backlog reads 0. Unknown readings are never progress: the move is safe either way, a wait
 * without evidence is not.
 */
function drainRedis(pass: Pass): string[] {
  const rollback = pass.status.rollback;
  if (rollback === undefined) return [];
  const drain = trackDrain(pass, rollback.stepStartedAt, rollback.drain);
  rollback.drain = drain;
  const backlog = pass.observations.redisBacklog;
  const drained = backlog?.known === true && backlog.value === 0;
  const waits = redisPublishersLeft(pass);
  if (drained) return waits;
  const timeoutMs = durationMs(pass.spec.rollback.drainTimeout);
  const stalledMs = pass.since(drain.progressAt);
  if (drain.moverStartedAt === undefined && stalledMs >= timeoutMs) {
    drain.moverStartedAt = pass.nowIso;
    pass.record(
      'RollbackMoverStarted',
      `consumers made no progress draining Redis for ${pass.spec.rollback.drainTimeout} ` +
        `(lowest backlog ${drain.lowestBacklog ?? 'unknown'}): the operator moves the entries to SQS`,
    );
  }
  if (drain.moverStartedAt === undefined) {
    pass.wakeUpAt(Date.parse(drain.progressAt) + timeoutMs);
  } else {
    pass.queueActions.push({
      kind: 'moveRedisToSqs',
      maxEntries: MOVE_BATCH,
      claimIdleMs: consumerClaimIdleMs(pass),
    });
    pass.wakeUpAt(pass.now + MOVE_INTERVAL_MS);
  }
  const reading =
    backlog === undefined ? 'no sample yet' : backlog.known ? `backlog ${backlog.value}` : backlog.reason;
  const moving =
    drain.moverStartedAt === undefined
      ? ''
      : `; the operator moves entries to SQS (${drain.moved} moved${drain.moverError === undefined ? '' : `, latest move failed: ${drain.moverError}`})`;
  return [`the Redis backlog to read 0 with lag known (${reading}${moving})`, ...waits];
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
    // A Deployment is judged once it carries the step's settings: before the step's patch, its
    // verdict is about the template the step replaces, not the rollout the step asks for.
    const subjects = new Set(
      [
        ...resolved.targets.filter(
          (t) => (t.role === 'producer' ? scope.producers : scope.consumers) && carriesSettings(t),
        ),
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
      ...(step === 'drain-redis' ? drainRedis(pass) : []),
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
