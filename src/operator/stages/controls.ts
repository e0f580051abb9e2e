import type { Control } from '../api/names.ts';
import type { Pass } from './pass.ts';
import { startRollback } from './rollback.ts';

export type ControlTokens = Partial<Record<Control, string>>;

/** Abort first: a user who asked for both an abort and a promote gets the safe one. */
const ORDER: readonly Control[] = ['abort', 'retry', 'promote'];

export interface ControlOutcome {
  /** A retry cleared a field conflict: this pass applies the operator's fields over the other manager's. */
  overrideConflicts: boolean;
}

function pausedByAnalysis(pass: Pass): boolean {
  return (
    pass.status.conditions?.some((c) => c.type === 'Paused' && c.reason === 'AnalysisInconclusive') === true
  );
}

/**
 * Handles each new token once. A token is recorded as handled even when it does not apply (it is
 * then reported as ignored), so a leftover annotation never acts later, nor after a restart.
 */
export function handleControls(pass: Pass, tokens: ControlTokens): ControlOutcome {
  const { status } = pass;
  let overrideConflicts = false;
  for (const control of ORDER) {
    const token = tokens[control];
    if (token === undefined || token === '' || token === status.lastHandledTokens?.[control]) continue;
    status.lastHandledTokens = { ...status.lastHandledTokens, [control]: token };
    const phase = status.phase ?? 'Pending';
    const ignored = (why: string): void => {
      pass.record('ControlIgnored', `${control} token ${token} ignored: ${why}`);
    };
    switch (control) {
      case 'abort':
        if (phase === 'Progressing' || phase === 'Paused') {
          pass.record('Aborted', `abort token ${token}`);
          startRollback(pass, `aborted by token ${token}`);
        } else if (phase === 'Pending') {
          status.phase = 'RolledBack';
          pass.record('Aborted', `abort token ${token}: aborted before any change`);
        } else ignored(`nothing to abort in phase ${phase}`);
        break;
      case 'retry':
        if (phase === 'RolledBack') {
          // Back to Pending: the start (with the originals recorded the first time) follows.
          status.phase = 'Pending';
          delete status.rollback;
          delete status.stage;
          delete status.step;
          pass.record('Retried', `retry token ${token}: starting again at dual`);
        } else if (status.conflict !== undefined) {
          pass.record(
            'Retried',
            `retry token ${token}: applying the operator's settings over ${status.conflict.manager}'s change`,
          );
          delete status.conflict;
          overrideConflicts = true;
        } else if (phase === 'Paused' && pausedByAnalysis(pass)) {
          // The counters of the step start again; the next rounds decide afresh.
          delete status.analysis;
          pass.record('Retried', `retry token ${token}: analysis counters of the step reset`);
        } else ignored(`nothing to retry in phase ${phase}`);
        break;
      case 'promote':
        if (phase === 'Progressing' && status.stage !== undefined) {
          status.promoted = { stage: status.stage, step: status.step ?? 0 };
          pass.record('Promoted', `promote token ${token}: time, metric and approval waits skipped`);
        } else ignored(`nothing to promote in phase ${phase}`);
        break;
    }
  }
  return { overrideConflicts };
}
