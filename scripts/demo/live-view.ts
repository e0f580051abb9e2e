import { STAGES } from '../../src/operator/api/stages-schema.ts';
import type { QueueMigrationStatus } from '../../src/operator/api/status-schema.ts';

/** Deliveries so far, as the load generator and the workers' ledger count them. */
export interface DeliveryCounts {
  /** Sent by the load generator, answered or not yet. */
  sent: number;
  /** Answered 2xx by a webhook pod. */
  accepted: number;
  /** Answered non-2xx, failed, or sent while no webhook pod was ready: what GitHub would count as failed. */
  refused: number;
  /** Recorded by the ledger handler (`ping` deliveries are handled without a ledger entry). */
  handled: number;
}

/** Everything one frame of the live view shows. */
export interface LiveSnapshot {
  /** The migration's status; undefined until the operator first writes it. */
  status: QueueMigrationStatus | undefined;
  /** How many steps the spec's canary stage has. */
  canarySteps: number;
  counts: DeliveryCounts;
  /** Since the demo started. */
  elapsedMs: number;
  /** The fault the demo injected, in words, once it did. */
  fault?: string;
}

function clock(ms: number): string {
  const total = Math.floor(ms / 1000);
  const minutes = String(Math.floor(total / 60)).padStart(2, '0');
  const seconds = String(total % 60).padStart(2, '0');
  return `${minutes}:${seconds}`;
}

/** Canary steps are counted from 0 in status and from 1 for people, as the operator's messages do. */
function stageLabel(stage: string, step: number | undefined, canarySteps: number): string {
  return stage === 'canary' && step !== undefined
    ? `canary ${String(step + 1)}/${String(canarySteps)}`
    : stage;
}

/**
 * The five stages in order: passed ones ticked, the current one marked (✗ when a rollback left
 * from it), the ones ahead plain.
 */
export function stageProgress(status: QueueMigrationStatus | undefined, canarySteps: number): string {
  const current = status?.stage === undefined ? -1 : STAGES.indexOf(status.stage);
  const succeeded = status?.phase === 'Succeeded';
  const retreating = status?.phase === 'RollingBack' || status?.phase === 'RolledBack';
  return STAGES.map((stage, index) => {
    if (succeeded || index < current) return `✓ ${stage}`;
    if (index > current) return stage;
    return `${retreating ? '✗' : '▶'} ${stageLabel(stage, status?.step, canarySteps)}`;
  }).join(' → ');
}

/** The queue figures the operator measured, with unknown said as such (never as 0). */
function queueFigures(status: QueueMigrationStatus | undefined): string {
  const backlog = status?.backlog === undefined ? 'unknown' : String(status.backlog);
  return `backlog ${backlog} · error rate ${status?.errorRate ?? 'not measured'}`;
}

function deliveries(counts: DeliveryCounts): string {
  return [
    `sent ${String(counts.sent)}`,
    `accepted ${String(counts.accepted)}`,
    ...(counts.refused === 0 ? [] : [`refused ${String(counts.refused)}`]),
    `handled ${String(counts.handled)}`,
  ].join(' · ');
}

function rollbackText(status: QueueMigrationStatus | undefined): string | undefined {
  const rollback = status?.rollback;
  return rollback === undefined ? undefined : `${rollback.step} (${rollback.reason})`;
}

/** The block a terminal redraws a few times a second. */
export function liveBlock(snapshot: LiveSnapshot): string[] {
  const { status } = snapshot;
  const rollback = rollbackText(status);
  return [
    `queueshift demo  ${clock(snapshot.elapsedMs)}  phase ${status?.phase ?? 'waiting for the operator'}`,
    `  stages      ${stageProgress(status, snapshot.canarySteps)}`,
    `  now         ${status?.message ?? '—'}`,
    `  queue       ${queueFigures(status)}`,
    `  deliveries  ${deliveries(snapshot.counts)}`,
    ...(rollback === undefined ? [] : [`  rollback    ${rollback}`]),
    ...(snapshot.fault === undefined ? [] : [`  fault       ${snapshot.fault}`]),
  ];
}

/**
 * What makes a new line worth printing when the output is not a terminal: the migration moved
 * (phase, stage, step, rollback step) or says it now waits for something else.
 */
export function transitionKey(snapshot: LiveSnapshot): string {
  const { status } = snapshot;
  return [
    status?.phase,
    status?.stage,
    status?.step,
    status?.rollback?.step,
    status?.message,
    snapshot.fault,
  ].join('|');
}

/** One line per transition, for logs and pipes. */
export function transitionLine(snapshot: LiveSnapshot): string {
  const { status } = snapshot;
  const where =
    status?.stage === undefined ? '' : ` ${stageLabel(status.stage, status.step, snapshot.canarySteps)}`;
  const rollback = rollbackText(status);
  return (
    `[${clock(snapshot.elapsedMs)}] ${status?.phase ?? 'Pending'}${where}` +
    (rollback === undefined ? '' : ` rollback ${rollback}`) +
    (snapshot.fault === undefined ? '' : ` fault: ${snapshot.fault}`) +
    ` — ${status?.message ?? 'waiting for the operator'}` +
    ` (${queueFigures(status)}; ${deliveries(snapshot.counts)})`
  );
}
