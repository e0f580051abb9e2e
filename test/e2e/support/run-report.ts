import fs from 'node:fs';
import path from 'node:path';
import type { HistoryEntry } from '../../../src/operator/api/status-schema.ts';
import { envPaths } from '../../env/paths.ts';
import { describeAccount, type DeliveryAccount } from './delivery-ledger.ts';
import type { LoadReport } from './steady-load.ts';

/** What one run under load showed: the invariants' counts, the stages, and how fast it retreated. */
export interface RunReport {
  scenario: string;
  load: LoadReport;
  account: DeliveryAccount;
  /** The migration's history at the end of the run. */
  history: readonly HistoryEntry[];
  /** From the failing verdict to every producer back on `sqs`, as a watch saw it. */
  verdictToSqsMs?: number;
  /** Faults injected and anything else worth a line. */
  notes?: readonly string[];
}

/** Where every run's report is written; `npm test` prints them all at its end. */
export function reportsDir(): string {
  return path.join(envPaths().stateDir, 'reports');
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/** The history as a timeline: each transition with the time since the one before. */
function timeline(history: readonly HistoryEntry[]): string[] {
  const first = history[0];
  if (first === undefined) return ['  (no transitions)'];
  const width = Math.max(...history.map((h) => h.reason.length));
  return history.map((entry, index) => {
    const previous = history[index - 1] ?? first;
    const since = Date.parse(entry.at) - Date.parse(previous.at);
    return `  ${entry.reason.padEnd(width)}  ${entry.at}  +${seconds(since)}`;
  });
}

export function formatRunReport(report: RunReport): string {
  const { load } = report;
  const rate = load.durationMs > 0 ? Math.round((load.sent * 1000) / load.durationMs) : 0;
  return [
    `== ${report.scenario}`,
    `deliveries: ${describeAccount(report.account)}`,
    `load: ${String(rate)}/s for ${seconds(load.durationMs)}; ${String(load.redirected)} connections redirected`,
    ...(report.verdictToSqsMs === undefined
      ? []
      : [`failing verdict → producers on SQS: ${String(report.verdictToSqsMs)} ms`]),
    ...(report.notes ?? []).map((note) => `note: ${note}`),
    'stages:',
    ...timeline(report.history),
    '',
  ].join('\n');
}

/** Prints the report and keeps it in reportsDir() under the scenario's name. */
export function publishRunReport(report: RunReport): string {
  const text = formatRunReport(report);
  const dir = reportsDir();
  fs.mkdirSync(dir, { recursive: true });
  const file = `${report.scenario.replace(/[^a-z0-9]+/gi, '-').toLowerCase()}.txt`;
  fs.writeFileSync(path.join(dir, file), text);
  process.stderr.write(text);
  return text;
}
