import { isDeepStrictEqual } from 'node:util';
import { durationMs } from '../api/durations.ts';
import type { QueueMigrationSpec } from '../api/spec-schema.ts';
import {
  isFinalPhase,
  type HistoryEntry,
  type Phase,
  type QueueMigrationStatus,
} from '../api/status-schema.ts';
import type { StageDecision } from '../analysis/analysis-engine.ts';
import { worstVerdict } from '../analysis/verdict.ts';
import { preflightHolds } from '../preflight/preflight-gate.ts';
import type { Action, Decision } from './actions.ts';
import { analyseStep } from './analysis-step.ts';
import { setCondition } from './conditions.ts';
import { foreignChanges, recordOriginal } from './container-settings.ts';
import { handleControls, type ControlTokens } from './controls.ts';
import { forwardLayout, type Layout } from './layout.ts';
import type { Observations } from './observations.ts';
import { eventType, Pass } from './pass.ts';
import { describeAction } from './plan.ts';
import { progress, stepLabel, sweepStragglers } from './progression.ts';
import { layoutActions, resolveLayout } from './resolved-layout.ts';
import { currentRollbackLayout, rollBack, startRollback } from './rollback.ts';

export interface MigrationInput {
  spec: QueueMigrationSpec;
  status: QueueMigrationStatus;
  generation: number;
  /** Values of the control annotations. */
  tokens: ControlTokens;
  finalizerPresent: boolean;
  deleting: boolean;
  observations: Observations;
  now: number;
}

/** Metrics whose latest values fill the Backlog and Error Rate columns of `kubectl get qm`. */
const BACKLOG_METRIC = 'redis-backlog';
const ERROR_RATE_METRIC = 'error-rate';

type Hold = 'SpecPaused' | 'FieldConflict' | 'GatesFailing' | 'AnalysisInconclusive';

interface Outcome {
  waiting: string[];
  hold?: Hold;
  awaitingApproval: boolean;
}

const WAITING: Outcome = { waiting: [], awaitingApproval: false };

/** Deployments or containers that do not exist: nothing can start (or continue) without them. */
function targetProblems(pass: Pass): string[] {
  const targets = [...pass.spec.producers, ...pass.spec.consumers];
  return targets.flatMap(({ name, container }) => {
    const observed = pass.observations.deployments.get(name);
    if (observed === undefined) return [`Deployment ${name} not found`];
    if (observed.container === undefined) return [`Deployment ${name} has no container ${container}`];
    return [];
  });
}

/**
 * Starts at dual: the original settings are recorded (the first time only: a retry reuses them)
 * and must show the pipeline on SQS, since that is where a migration starts from; the preflight
 * must have passed before anything is recorded or patched.
 */
function start(pass: Pass): Outcome {
  const { status, spec, observations } = pass;
  const problems = targetProblems(pass);
  if (problems.length > 0) return { waiting: problems, awaitingApproval: false };
  const originals =
    status.originals ??
    [
      ...spec.producers.map((t) => ({ ...t, role: 'producer' as const })),
      ...spec.consumers.map((t) => ({ ...t, role: 'consumer' as const })),
    ].flatMap((target) => {
      const container = observations.deployments.get(target.name)?.container;
      return container === undefined ? [] : [recordOriginal(target, target.role, container)];
    });
  const notOnSqs = originals
    .filter(
      (o) => !o.env.some((e) => e.name === 'QUEUE_TYPE' && e.valueFrom === undefined && e.value === 'sqs'),
    )
    .map(
      (o) =>
        `${o.role} ${o.deployment}/${o.container} does not have the literal QUEUE_TYPE=sqs to start from`,
    );
  if (notOnSqs.length > 0) return { waiting: notOnSqs, awaitingApproval: false };
  const preflight = preflightHolds(pass);
  if (preflight.length > 0) return { waiting: preflight, awaitingApproval: false };
  status.originals = originals;
  status.startedAt ??= pass.nowIso;
  status.phase = 'Progressing';
  pass.enter('dual', 0);
  pass.record(
    'DualStarted',
    `original settings of ${originals.length} Deployment(s) recorded; consumers read both queues`,
  );
  return forward(pass, false);
}

function holdFor(pass: Pass, failing: boolean, analysis: StageDecision | undefined): Hold | undefined {
  if (pass.status.conflict !== undefined) return 'FieldConflict';
  if (failing) return 'GatesFailing';
  if (analysis?.kind === 'pause') return 'AnalysisInconclusive';
  if (pass.spec.paused) return 'SpecPaused';
  return undefined;
}

function detectConflict(pass: Pass, layout: Layout): void {
  for (const target of resolveLayout(pass, layout).targets) {
    if (target.observed === undefined || target.settings === undefined) continue;
    const [change] = foreignChanges(target.observed, target.settings);
    if (change === undefined) continue;
    pass.status.conflict = {
      deployment: target.name,
      variable: change.variable,
      manager: change.manager,
      detectedAt: pass.nowIso,
    };
    pass.record(
      'FieldConflict',
      `${change.manager} changed ${change.variable} of Deployment ${target.name}; paused instead of fighting ` +
        'over it (resolve, then annotate queueshift.dev/retry=<token>)',
    );
    return;
  }
}

/** Why the gates say to go back, if they do: a failed rollout, or the analysis past a limit. */
function failureReason(pass: Pass, analysis: StageDecision | undefined): string | undefined {
  const failures = pass.observations.verdicts.filter((v) => v.verdict === 'failure').map((v) => v.message);
  if (analysis?.kind === 'rollback') failures.push(analysis.reason);
  return failures.length === 0 ? undefined : failures.join('; ');
}

const HOLD_RECORDS: Partial<
  Record<
    Hold,
    { reason: 'Paused' | 'GatesFailing' | 'AnalysisInconclusive'; message: (why: string) => string }
  >
> = {
  SpecPaused: { reason: 'Paused', message: () => 'spec.paused is set' },
  GatesFailing: {
    reason: 'GatesFailing',
    message: (why) => `gate failed, automatic rollback is off: ${why}`,
  },
  AnalysisInconclusive: {
    reason: 'AnalysisInconclusive',
    message: (why) =>
      `paused (inconclusivePolicy pause; annotate queueshift.dev/retry=<token> to resume): ${why}`,
  },
};

/** Holds the migration where it is (no transition, no Deployment change), recording the pause once. */
function holdStill(pass: Pass, hold: Hold, why: string): Outcome {
  const { status } = pass;
  delete status.greenSince;
  if (status.phase !== 'Paused') {
    status.phase = 'Paused';
    const record = HOLD_RECORDS[hold];
    if (record !== undefined) pass.record(record.reason, record.message(why));
  }
  return { waiting: [], hold, awaitingApproval: false };
}

function moveOn(pass: Pass): Outcome {
  if (pass.status.phase === 'Paused') {
    pass.status.phase = 'Progressing';
    pass.record('Resumed', 'the migration continues');
  }
  return progress(pass);
}

/**
 * Progressing or paused: the due analysis round is counted; a failed gate rolls back (or pauses,
 * with automatic rollback off), too many inconclusive rounds pause, a hold pauses, otherwise move on.
 * Holding or moving on, SQS is swept once consumers read only Redis: a hold stops the migration's
 * progress, never the only reader of a queue that still receives messages.
 */
function forward(pass: Pass, overrideConflicts: boolean): Outcome {
  const { status, spec } = pass;
  const analysis = analyseStep(pass, pass.observations.analysis)?.decision;
  const failure = failureReason(pass, analysis);
  if (failure !== undefined && spec.rollback.automatic) {
    startRollback(pass, `gate failed: ${failure}`);
    return { waiting: rollBack(pass), awaitingApproval: false };
  }
  const layout = forwardLayout(spec, status.stage ?? 'dual', status.step ?? 0);
  if (!overrideConflicts && status.conflict === undefined) detectConflict(pass, layout);
  const hold = holdFor(pass, failure !== undefined, analysis);
  const why = failure ?? (analysis?.kind === 'pause' ? analysis.reason : '');
  const outcome = hold === undefined ? moveOn(pass) : holdStill(pass, hold, why);
  sweepStragglers(pass);
  return outcome;
}

/** Deletion: roll back first (policy RollBack) unless nothing is in flight; true once it may go. */
function beginDeletion(pass: Pass): boolean {
  const { status, spec } = pass;
  const phase = status.phase ?? 'Pending';
  if (spec.deletionPolicy === 'Orphan' || phase === 'Pending' || isFinalPhase(phase)) return true;
  if (phase !== 'RollingBack') startRollback(pass, 'the QueueMigration is being deleted');
  return false;
}

function evaluate(pass: Pass, overrideConflicts: boolean): Outcome {
  switch (pass.status.phase) {
    case 'Pending':
      return pass.spec.paused ? { waiting: [], hold: 'SpecPaused', awaitingApproval: false } : start(pass);
    case 'Progressing':
    case 'Paused':
      return forward(pass, overrideConflicts);
    case 'RollingBack':
      return { waiting: rollBack(pass), awaitingApproval: false };
    default:
      return WAITING;
  }
}

/** The layout whose settings the Deployments must carry now; none while holding or at rest. */
function activeLayout(pass: Pass, outcome: Outcome): Layout | undefined {
  const { status } = pass;
  if (status.phase === 'RollingBack') return currentRollbackLayout(pass);
  if (status.phase === 'Progressing' && outcome.hold === undefined && status.stage !== undefined) {
    return forwardLayout(pass.spec, status.stage, status.step ?? 0);
  }
  return undefined;
}

function summary(pass: Pass, outcome: Outcome): string {
  const { status } = pass;
  const waiting = outcome.waiting[0] === undefined ? '' : `: waiting for ${outcome.waiting[0]}`;
  const more = outcome.waiting.length > 1 ? ` (+${outcome.waiting.length - 1} more)` : '';
  const where = status.stage === undefined ? '' : stepLabel(pass, status.stage, status.step ?? 0);
  switch (status.phase) {
    case 'Pending':
      return outcome.hold !== undefined ? 'paused before the start' : `not started${waiting}${more}`;
    case 'Paused':
      return `${where}: paused (${outcome.hold ?? 'SpecPaused'})`;
    case 'Progressing':
      return `${where}${waiting}${more}`;
    case 'RollingBack':
      return `rolling back (${status.rollback?.step ?? ''})${waiting}${more}`;
    case 'RolledBack':
      return status.rollback === undefined
        ? 'aborted before any change'
        : `rolled back: ${status.rollback.reason}`;
    default:
      return 'migration complete';
  }
}

function finishStatus(pass: Pass, outcome: Outcome): void {
  const { status, observations } = pass;
  const problems = isFinalPhase(status.phase) ? [] : targetProblems(pass);
  setCondition(pass, {
    type: 'TargetsReady',
    status: problems.length === 0 ? 'True' : 'False',
    reason: problems.length === 0 ? 'TargetsFound' : 'TargetsMissing',
    message: problems.length === 0 ? 'every Deployment and container exists' : problems.join('; '),
  });
  const verdicts = [...observations.verdicts, ...pass.analysisVerdicts];
  const worst = worstVerdict(verdicts);
  const first = verdicts.find((v) => v.verdict === worst);
  setCondition(pass, {
    type: 'GatesPassing',
    status: worst === 'success' ? 'True' : worst === 'inconclusive' ? 'Unknown' : 'False',
    reason: { success: 'AllGreen', failure: 'GateFailed', error: 'GateError', inconclusive: 'NoEvidenceYet' }[
      worst
    ],
    message:
      worst === 'success' ? `${verdicts.length} verdict(s), all green` : (first?.message ?? 'no verdict yet'),
  });
  setCondition(pass, {
    type: 'Paused',
    status: outcome.hold === undefined ? 'False' : 'True',
    reason: outcome.hold ?? 'NotPaused',
    message: outcome.hold === undefined ? 'not paused' : summary(pass, outcome),
  });
  setCondition(pass, {
    type: 'AwaitingApproval',
    status: outcome.awaitingApproval ? 'True' : 'False',
    reason: outcome.awaitingApproval ? 'ApprovalRequired' : 'NoApprovalPending',
    message: outcome.awaitingApproval
      ? 'annotate queueshift.dev/promote=<token> to approve'
      : 'no approval pending',
  });
  setCondition(pass, {
    type: 'DryRun',
    status: pass.spec.dryRun ? 'True' : 'False',
    reason: pass.spec.dryRun ? 'PlanOnly' : 'Acting',
    message: pass.spec.dryRun
      ? 'spec.dryRun: actions are planned in status.plan, not taken'
      : 'actions are taken',
  });
  status.observedGeneration = pass.generation;
  status.message = summary(pass, outcome).slice(0, 1_024);
  status.gates = verdicts.slice(0, 64).map(({ promotable: _promotable, ...verdict }) => verdict);
  const backlog = observations.redisBacklog;
  const measured = (name: string): string | undefined =>
    status.analysis?.metrics.find((m) => m.name === name && m.value !== undefined)?.value;
  const backlogValue =
    backlog === undefined
      ? Number(measured(BACKLOG_METRIC) ?? Number.NaN)
      : backlog.known
        ? backlog.value
        : Number.NaN;
  if (Number.isInteger(backlogValue) && backlogValue >= 0) status.backlog = backlogValue;
  else delete status.backlog;
  const errorRate = measured(ERROR_RATE_METRIC);
  if (errorRate !== undefined && !isFinalPhase(status.phase)) status.errorRate = errorRate;
  else delete status.errorRate;
}

/** One notification per transition (rollbacks and pauses are transitions too), when a URL is set. */
function notifications(url: string | undefined, recorded: readonly HistoryEntry[], phase: Phase): Action[] {
  return url === undefined ? [] : recorded.map((entry) => ({ kind: 'notify', url, entry, phase }));
}

/**
 * The stage machine: from the spec, the last status, what was observed and the time, the next
 * status and the actions that follow from it, in the order they must run. Pure: everything it
 * knows comes in through `input`.
 */
export function decide(input: MigrationInput): Decision {
  const pass = new Pass(input);
  const { status, spec } = pass;
  status.phase ??= 'Pending';
  // A dry run plans forward moves only: it never holds a rollback, which protects messages.
  const dryRun = spec.dryRun && status.phase !== 'RollingBack';
  const { overrideConflicts } = handleControls(pass, input.tokens);
  const released = input.deleting && beginDeletion(pass);
  const outcome = released ? WAITING : evaluate(pass, overrideConflicts);
  // Released (deleted before the start, or policy Orphan): the Deployments stay as they are.
  const layout = released ? undefined : activeLayout(pass, outcome);
  const changes = layout === undefined ? [] : layoutActions(resolveLayout(pass, layout));
  finishStatus(pass, outcome);
  const mayRelease = released || (input.deleting && isFinalPhase(status.phase));

  if (dryRun) {
    const planned: QueueMigrationStatus = {
      ...structuredClone(input.status),
      ...(status.lastHandledTokens !== undefined && { lastHandledTokens: status.lastHandledTokens }),
      observedGeneration: input.generation,
      conditions: status.conditions ?? [],
      plan: changes.flatMap((action) => describeAction(action) ?? []).slice(0, 64),
      message: `dry run: ${changes.length} action(s) planned (${summary(pass, outcome)})`.slice(0, 1_024),
    };
    const write: Action[] = isDeepStrictEqual(planned, input.status)
      ? []
      : [{ kind: 'writeStatus', status: planned }];
    return { status: planned, actions: write, requeueAfterMs: durationMs(spec.analysis.interval) };
  }

  delete status.plan;
  if (mayRelease) pass.record('FinalizerReleased', `deletion proceeds (policy ${spec.deletionPolicy})`);
  const actions: Action[] = [
    ...(!input.deleting && !input.finalizerPresent ? [{ kind: 'addFinalizer' } as const] : []),
    ...(isDeepStrictEqual(status, input.status) ? [] : [{ kind: 'writeStatus', status } as const]),
    ...changes,
    ...pass.recorded.map((entry) => ({ kind: 'recordEvent', entry, type: eventType(entry.reason) }) as const),
    ...pass.queueActions,
    ...notifications(spec.notificationUrl, pass.recorded, status.phase),
    ...(mayRelease && input.finalizerPresent ? [{ kind: 'removeFinalizer' } as const] : []),
  ];
  const atRest = isFinalPhase(status.phase);
  const interval = durationMs(spec.analysis.interval);
  const wake = pass.wakeAt === undefined ? interval : Math.min(pass.wakeAt - pass.now, interval);
  return { status, actions, ...(!atRest && { requeueAfterMs: wake }) };
}
