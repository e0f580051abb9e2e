/**
 * What a gate concludes from one measurement. Worst first: the verdict of several measurements is
 * the worst of them, and "no data" (inconclusive) never counts as success.
 */
export const VERDICTS_WORST_FIRST = ['failure', 'error', 'inconclusive', 'success'] as const;

export type VerdictKind = (typeof VERDICTS_WORST_FIRST)[number];

export interface Verdict {
  /** Gate that produced it. */
  gate: string;
  /** What was measured: a Deployment's name, a stream; absent for migration-wide measurements. */
  subject?: string;
  verdict: VerdictKind;
  metric: string;
  value?: string;
  threshold?: string;
  message: string;
  /**
   * Whether a `promote` token may skip waiting for this verdict to turn green. Never for what
   * guards a message (rollouts finishing, drains); only for time, metric and approval waits.
   */
  promotable: boolean;
}

/** The worst verdict; `inconclusive` when there is none (no evidence is not success). */
export function worstVerdict(verdicts: readonly Verdict[]): VerdictKind {
  if (verdicts.length === 0) return 'inconclusive';
  const rank = (kind: VerdictKind): number => VERDICTS_WORST_FIRST.indexOf(kind);
  return verdicts.reduce<VerdictKind>(
    (worst, { verdict }) => (rank(verdict) < rank(worst) ? verdict : worst),
    'success',
  );
}
