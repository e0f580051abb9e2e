import type { Outcome } from '../types.ts';
import type { CommitState } from './delivery-context.ts';

/** How a handler attempt ended, before any decision about the message. */
export type AttemptResult =
  | { kind: 'outcome'; outcome: Outcome }
  | { kind: 'threw'; error: unknown }
  | { kind: 'timed-out'; afterMs: number }
  /** Another worker took the lease while the handler ran. */
  | { kind: 'lease-lost' };

export interface SettlementInput {
  attempt: AttemptResult;
  commit: CommitState;
  deliveryCount: number;
  maxDeliveries: number;
  defaultRetryDelayMs: number;
}

/** What to do with the message. `note` explains a decision that overrode the handler's word. */
export type Settlement =
  | { action: 'ack'; markDone: boolean; note?: string }
  | { action: 'retry'; delayMs: number; reason: string }
  | { action: 'dead'; reason: string };

function describe(attempt: AttemptResult): string {
  switch (attempt.kind) {
    case 'outcome':
      return `returned ${attempt.outcome.kind}`;
    case 'threw':
      return `threw: ${attempt.error instanceof Error ? attempt.error.message : String(attempt.error)}`;
    case 'timed-out':
      return `timed out after ${attempt.afterMs} ms`;
    case 'lease-lost':
      return 'lost its lease to another worker';
  }
}

/**
 * The decision table of one attempt. Rules, in order:
 * 1. A landed commit (or a delivery already done elsewhere) is acknowledged whatever the handler
 *    said: its effects exist, so running it again could only duplicate them.
 * 2. A lease held by another worker means retry later, never ack and never dead: that worker owns
 *    the delivery now.
 * 3. An ack after a failed commit is a retry: the commit may not have landed, and acknowledging
 *    would drop its effects.
 * 4. A retry on the last allowed delivery becomes dead, with the retry's reason.
 */
export function settlementFor(input: SettlementInput): Settlement {
  const { attempt, commit } = input;
  const said = describe(attempt);
  if (commit === 'committed' || commit === 'already-done') {
    const agrees = attempt.kind === 'outcome' && attempt.outcome.kind === 'ack';
    return {
      action: 'ack',
      markDone: false,
      ...(!agrees && {
        note: `the handler ${said} after ${commit === 'committed' ? 'committing' : 'the delivery was done elsewhere'}; acknowledged`,
      }),
    };
  }
  if (commit === 'lost' || attempt.kind === 'lease-lost') {
    return { action: 'retry', delayMs: input.defaultRetryDelayMs, reason: 'another worker holds the lease' };
  }
  if (attempt.kind === 'outcome') {
    const { outcome } = attempt;
    if (outcome.kind === 'dead') return { action: 'dead', reason: outcome.reason };
    if (outcome.kind === 'retry') return retryOrGiveUp(input, outcome.delayMs, outcome.reason);
    if (commit === 'failed') {
      return retryOrGiveUp(
        input,
        input.defaultRetryDelayMs,
        'the handler acknowledged after a failed commit',
      );
    }
    return { action: 'ack', markDone: true };
  }
  return retryOrGiveUp(input, input.defaultRetryDelayMs, `the handler ${said}`);
}

function retryOrGiveUp(input: SettlementInput, delayMs: number, reason: string): Settlement {
  if (input.deliveryCount >= input.maxDeliveries) {
    return { action: 'dead', reason: `gave up after ${input.deliveryCount} deliveries: ${reason}` };
  }
  return { action: 'retry', delayMs, reason };
}
