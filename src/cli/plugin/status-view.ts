import { CONTROL_ANNOTATIONS, type Control } from '../../operator/api/names.ts';
import type { HistoryView, MigrationView, StatusView } from './status-fields.ts';
import { renderTable } from './text-table.ts';
import { age, formatDuration, parseTime } from './time-text.ts';

/** One stretch of time the migration spent in a stage, as its history tells it. */
export interface StageSpan {
  stage: string;
  enteredAt: string;
  /** Undefined for the stage it is in now, while it is still moving. */
  durationMs: number | undefined;
  current: boolean;
}

/** Phases in which the last stage is still running: its duration grows until now. */
const MOVING_PHASES = new Set(['Progressing', 'Paused', 'RollingBack']);

/**
 * Stages in the order the history entered them. A span ends where the next begins; the last one
 * ends now while the migration moves, else at its last recorded transition.
 */
export function stageSpans(
  history: readonly HistoryView[],
  phase: string | undefined,
  now: number,
): StageSpan[] {
  const ordered = [...history].sort((a, b) => (a.seq ?? 0) - (b.seq ?? 0));
  const spans: { stage: string; enteredAt: string }[] = [];
  for (const entry of ordered) {
    if (entry.stage === undefined || entry.at === undefined) continue;
    if (spans.at(-1)?.stage !== entry.stage) spans.push({ stage: entry.stage, enteredAt: entry.at });
  }
  const moving = phase !== undefined && MOVING_PHASES.has(phase);
  const lastAt = parseTime(ordered.findLast((entry) => entry.at !== undefined)?.at);
  return spans.map((span, index) => {
    const last = index === spans.length - 1;
    const end = last ? (moving ? now : lastAt) : parseTime(spans[index + 1]?.enteredAt);
    const start = parseTime(span.enteredAt);
    return {
      ...span,
      durationMs: end === undefined || start === undefined ? undefined : end - start,
      current: last && moving,
    };
  });
}

/** Control tokens set on the object that the operator has not recorded as handled yet. */
export function pendingControls(
  annotations: Readonly<Record<string, string>> | undefined,
  handled: StatusView['lastHandledTokens'],
): { control: Control; token: string }[] {
  return (Object.keys(CONTROL_ANNOTATIONS) as Control[]).flatMap((control) => {
    const token = annotations?.[CONTROL_ANNOTATIONS[control]];
    return token === undefined || token === '' || token === handled?.[control] ? [] : [{ control, token }];
  });
}

const orDash = (value: string | number | undefined): string => (value === undefined ? '-' : String(value));

function summary(view: MigrationView, now: number): string[] {
  const { status, spec, metadata } = view;
  const stage =
    status.stage === undefined
      ? '-'
      : `${status.stage}${status.step === undefined ? '' : `, step ${status.step}`}`;
  const lines = [
    `Name:        ${metadata.name}`,
    `Namespace:   ${metadata.namespace}`,
    `Phase:       ${status.phase ?? 'Pending (not yet seen by the operator)'}`,
    `Stage:       ${stage}${status.stageStartedAt === undefined ? '' : ` (for ${age(status.stageStartedAt, now)})`}`,
    `Paused:      ${spec.paused === true ? 'yes (spec.paused)' : 'no'}${spec.dryRun === true ? ', dry run' : ''}`,
    `Backlog:     ${orDash(status.backlog)}`,
    `Error rate:  ${orDash(status.errorRate)}`,
  ];
  if (status.message !== undefined) lines.push(`Message:     ${status.message}`);
  if (status.greenSince !== undefined) lines.push(`Green for:   ${age(status.greenSince, now)}`);
  const { rollback, conflict } = status;
  if (rollback !== undefined) {
    const retry = rollback.retryAt === undefined ? '' : `, next try at ${rollback.retryAt}`;
    const failures = (rollback.failures ?? 0) > 0 ? `, failed ${rollback.failures ?? 0} times${retry}` : '';
    lines.push(
      `Rollback:    step ${orDash(rollback.step)} for ${age(rollback.stepStartedAt, now)}${failures}`,
      `             started ${orDash(rollback.startedAt)}: ${orDash(rollback.reason)}`,
    );
  }
  if (conflict !== undefined) {
    lines.push(
      `Conflict:    ${orDash(conflict.manager)} changed ${orDash(conflict.variable)} of Deployment ` +
        `${orDash(conflict.deployment)} (${orDash(conflict.detectedAt)}); \`retry\` applies the operator's value`,
    );
  }
  for (const { control, token } of pendingControls(metadata.annotations, status.lastHandledTokens)) {
    lines.push(`Requested:   ${control} (token ${token}), not handled by the operator yet`);
  }
  return lines;
}

function section(title: string, body: string): string {
  return `\n${title}:\n${body
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => `  ${line}`)
    .join('\n')}\n`;
}

/** A titled table of `items`, or a line saying there is nothing to show. */
function tableSection<T>(
  title: string,
  items: readonly T[],
  empty: string,
  columns: readonly (readonly [header: string, cell: (item: T) => string])[],
): string {
  const body =
    items.length === 0
      ? empty
      : renderTable(
          columns.map(([header]) => header),
          items.map((item) => columns.map(([, cell]) => cell(item))),
        );
  return section(title, body);
}

/** `kubectl queueshift status`: summary, stages, history, gates, conditions; empty parts say so. */
export function renderStatus(view: MigrationView, now: number): string {
  const { status } = view;
  const history = [...status.history].sort((a, b) => (a.seq ?? 0) - (b.seq ?? 0));
  return (
    `${summary(view, now).join('\n')}\n` +
    tableSection('Stages', stageSpans(status.history, status.phase, now), 'no stage entered yet', [
      ['STAGE', (span) => span.stage],
      ['ENTERED', (span) => span.enteredAt],
      [
        'DURATION',
        (span) =>
          `${span.durationMs === undefined ? '-' : formatDuration(span.durationMs)}${span.current ? ' (current)' : ''}`,
      ],
    ]) +
    tableSection('History', history, 'no transitions recorded', [
      ['TIME', (entry) => orDash(entry.at)],
      ['STAGE', (entry) => `${orDash(entry.stage)}${entry.step === undefined ? '' : `/${entry.step}`}`],
      ['REASON', (entry) => orDash(entry.reason)],
      ['MESSAGE', (entry) => orDash(entry.message)],
    ]) +
    tableSection('Gates', status.gates, 'no verdicts yet', [
      ['GATE', (gate) => orDash(gate.gate)],
      ['METRIC', (gate) => orDash(gate.metric)],
      ['SUBJECT', (gate) => orDash(gate.subject)],
      ['VERDICT', (gate) => orDash(gate.verdict)],
      ['VALUE', (gate) => orDash(gate.value)],
      ['THRESHOLD', (gate) => orDash(gate.threshold)],
      ['MESSAGE', (gate) => orDash(gate.message)],
    ]) +
    tableSection('Conditions', status.conditions, 'none', [
      ['TYPE', (condition) => orDash(condition.type)],
      ['STATUS', (condition) => orDash(condition.status)],
      ['REASON', (condition) => orDash(condition.reason)],
      ['AGE', (condition) => age(condition.lastTransitionTime, now)],
      ['MESSAGE', (condition) => orDash(condition.message)],
    ]) +
    (status.plan.length === 0 ? '' : section('Planned (dry run)', status.plan.join('\n')))
  );
}

/** `kubectl queueshift list`: one line per QueueMigration, with its namespace when several are listed. */
export function renderList(views: readonly MigrationView[], withNamespace: boolean, now: number): string {
  if (views.length === 0) return 'No QueueMigrations found.\n';
  const headers = ['NAME', 'PHASE', 'STAGE', 'STEP', 'PAUSED', 'BACKLOG', 'ERROR RATE', 'AGE', 'MESSAGE'];
  const rows = views.map(({ metadata, spec, status }) => [
    ...(withNamespace ? [metadata.namespace] : []),
    metadata.name,
    orDash(status.phase),
    orDash(status.stage),
    orDash(status.step),
    spec.paused === true ? 'yes' : 'no',
    orDash(status.backlog),
    orDash(status.errorRate),
    age(metadata.creationTimestamp, now),
    orDash(status.message),
  ]);
  return renderTable(withNamespace ? ['NAMESPACE', ...headers] : headers, rows);
}
