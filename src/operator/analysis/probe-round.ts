import type { AnalysisSettings } from '../api/analysis-schema.ts';
import { durationMs } from '../api/durations.ts';
import type { ProbeRoundStatus } from '../api/status-schema.ts';
import type { Probe } from './probe-delivery.ts';
import type { ProbeOutcome } from './probe-readings.ts';

/**
 * A probe round after a pass: still waiting (kept in status, checked again a check interval on), or
 * judged (its outcomes become the round's probe readings).
 */
export type ProbeRoundState =
  { kind: 'pending'; status: ProbeRoundStatus } | { kind: 'judged'; outcomes: ProbeOutcome[] };

/**
 * What one check read in the idempotency store: when each probe found done was marked (dated from
 * its done mark, on the operator's clock), or why it could not ask.
 */
export type DoneMarks =
  { kind: 'read'; doneAt: ReadonlyMap<string, number> } | { kind: 'failed'; reason: string };

export interface ProbeTiming {
  /** How long a worker has to mark a probe done, from `sentAt`. */
  timeoutMs: number;
  /** Time between two checks of the done marks. */
  checkEveryMs: number;
}

/**
 * Time between two checks of a round's probes. Round trips are dated from the done marks, so this
 * sets only how soon a round is judged; each check is one pass of the reconcile.
 */
export const PROBE_CHECK_EVERY_MS = 250;

export const probeTiming = (settings: AnalysisSettings): ProbeTiming => ({
  timeoutMs: durationMs(settings.probes.timeout),
  checkEveryMs: PROBE_CHECK_EVERY_MS,
});

const iso = (ms: number): string => new Date(ms).toISOString();

/**
 * When a pass checks the probes next: a check interval on, but never after the deadline, which needs
 * a check of its own. Derived, not kept: a check that finds nothing new leaves status as it was. A
 * deadline already passed (a pass that did not check) is checked a check interval on.
 */
export function nextCheckAt(sent: ProbeRoundStatus, now: number, timing: ProbeTiming): number {
  const deadline = Date.parse(sent.sentAt) + timing.timeoutMs;
  return deadline > now ? Math.min(deadline, now + timing.checkEveryMs) : now + timing.checkEveryMs;
}

/**
 * The round once its probes were handed to the queues (`refusals` by delivery id: why a probe was
 * not accepted). One refused probe judges the round at once: it could not probe, whatever the
 * others do.
 */
export function sentRound(
  round: number,
  sentAt: number,
  probes: readonly Probe[],
  refusals: ReadonlyMap<string, string>,
): ProbeRoundState {
  const refused = probes.flatMap(({ deliveryId, route }): ProbeOutcome[] => {
    const reason = refusals.get(deliveryId);
    return reason === undefined ? [] : [{ deliveryId, route, kind: 'unpublished', reason }];
  });
  if (refused.length > 0) return { kind: 'judged', outcomes: refused };
  return {
    kind: 'pending',
    status: {
      round,
      sentAt: iso(sentAt),
      probes: probes.map(({ deliveryId, route }) => ({ deliveryId, route })),
    },
  };
}

/** The probes of a round whose done marks a check still has to look for. */
export function unmarkedProbes(sent: ProbeRoundStatus): string[] {
  return sent.probes.filter((p) => p.roundTripMs === undefined).map((p) => p.deliveryId);
}

/**
 * The round trip of a probe whose done mark was read at `now`: to its dated mark, or, when that date
 * cannot be right (before the send or after the read: the operator assumed another retention than
 * the worker wrote the mark with), to `now`, an upper bound. Undefined: marked past the deadline.
 */
function roundTrip(sentAt: number, doneAt: number, now: number, timing: ProbeTiming): number | undefined {
  if (doneAt < sentAt || doneAt > now) return now - sentAt;
  return doneAt - sentAt <= timing.timeoutMs ? doneAt - sentAt : undefined;
}

/**
 * The round after a check at `now` (the read's answer), pure. A probe found done keeps the round trip
 * its mark is dated with. All done: judged. The deadline passed with some not done in time: judged,
 * those timed out. The store could not be asked: judged, as unchecked (a provider error, never a
 * failure of the migration). Otherwise pending, with status unchanged unless a probe was first found
 * done.
 */
export function checkedRound(
  sent: ProbeRoundStatus,
  marks: DoneMarks,
  now: number,
  timing: ProbeTiming,
): ProbeRoundState {
  const sentAt = Date.parse(sent.sentAt);
  const probes = sent.probes.map((probe) => {
    const doneAt = marks.kind === 'read' ? marks.doneAt.get(probe.deliveryId) : undefined;
    if (probe.roundTripMs !== undefined || doneAt === undefined) return probe;
    const roundTripMs = roundTrip(sentAt, doneAt, now, timing);
    return roundTripMs === undefined ? probe : { ...probe, roundTripMs };
  });
  const overdue = now >= sentAt + timing.timeoutMs;
  if (marks.kind === 'read' && !overdue && probes.some((p) => p.roundTripMs === undefined)) {
    return { kind: 'pending', status: { ...sent, probes } };
  }
  return {
    kind: 'judged',
    outcomes: probes.map(({ deliveryId, route, roundTripMs }): ProbeOutcome => {
      if (roundTripMs !== undefined) return { deliveryId, route, kind: 'done', roundTripMs };
      if (marks.kind === 'failed') return { deliveryId, route, kind: 'unchecked', reason: marks.reason };
      return { deliveryId, route, kind: 'timed-out' };
    }),
  };
}
