/**
 * What a provider answers for one metric in one round. A provider never throws for a failed
 * measurement: it answers `error` (it could not ask: provider unreachable, bad query) or `no-data`
 * (it asked and there was nothing to judge).
 */
export type Reading =
  | { kind: 'value'; value: number; detail?: string }
  | { kind: 'no-data'; reason: string }
  /** The figure cannot exist yet (no consumer pod has had time to join the group): it holds the step, uncounted. */
  | { kind: 'not-yet'; reason: string }
  | { kind: 'error'; reason: string };

/** The time span one round of analysis covers; PromQL queries are evaluated at its end. */
export interface AnalysisWindow {
  start: number;
  end: number;
}
