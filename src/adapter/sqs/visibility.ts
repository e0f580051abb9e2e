/** SQS never lets a message stay invisible past 12 hours after the receive that reserved it. */
export const MAX_VISIBILITY_SECONDS = 43_200;

/**
 * The VisibilityTimeout to ask for so that a message stays invisible for `wantedMs`: rounded up to
 * whole seconds (SQS's unit; rounding down would deliver a retry before its delay), and capped at
 * what is left of the 12 hours since the receive, because SQS rejects a change that reaches past
 * them instead of capping it. `heldMs` is the time since the receive.
 */
export function visibilityTimeoutSeconds(wantedMs: number, heldMs: number): number {
  const wanted = Math.ceil(Math.max(0, wantedMs) / 1_000);
  const left = Math.floor((MAX_VISIBILITY_SECONDS * 1_000 - Math.max(0, heldMs)) / 1_000);
  return Math.max(0, Math.min(wanted, left));
}
