import type { QueueMigrationStatus } from '../../src/operator/api/status-schema.ts';
import type { DeliveryAccount } from '../../test/e2e/support/delivery-ledger.ts';

/** Phases after which the demo stops following: the story's end, or a wait for a person. */
export const FINAL_PHASES: readonly string[] = ['Succeeded', 'RolledBack', 'Paused'];

export interface DemoOutcome {
  rollback: boolean;
  final: QueueMigrationStatus;
  account: DeliveryAccount;
  /** The fault the rollback story injected, if it got that far. */
  fault: string | undefined;
  verdictToSqsMs: number | undefined;
}

/** What went wrong against the story's promise; empty when the demo showed what it should. */
export function demoProblems(outcome: DemoOutcome): string[] {
  const { final, account, rollback } = outcome;
  const expected = rollback ? 'RolledBack' : 'Succeeded';
  const refused = Object.entries(account.refused).map(([reason, count]) => `${reason}×${String(count)}`);
  return [
    ...(final.phase === expected
      ? []
      : [`the migration ended ${final.phase ?? 'without a phase'}, not ${expected}: ${final.message ?? ''}`]),
    ...(account.lost.length === 0 ? [] : [`${String(account.lost.length)} lost`]),
    ...(account.handledTwice.length === 0 ? [] : [`${String(account.handledTwice.length)} handled twice`]),
    ...(refused.length === 0 ? [] : [`non-2xx answers: ${refused.join(' ')}`]),
    ...(rollback && outcome.fault === undefined
      ? ['the migration never ran a canary, so the fault was never injected']
      : []),
    ...(rollback && outcome.verdictToSqsMs === undefined ? ['the producers were not seen back on SQS'] : []),
  ];
}
