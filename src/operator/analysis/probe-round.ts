import type { ProbeRoundStatus } from '../api/status-schema.ts';
import type { Probe } from './probe-delivery.ts';
import type { ProbeOutcome } from './probe-readings.ts';

/**
 * A probe round after a pass: still waiting (kept in status, checked again at `checkAt`), or judged
 * (its outcomes become the round's probe readings).
 */
export type ProbeRoundState =
  { kind: 'pending'; status: ProbeRoundStatus } | { kind: 'judged'; outcomes: ProbeOutcome[] };

/** What one check read in the idempotency store: the ids found done, or why it could not ask. */
export type DoneMarks = { kind: 'read'; done: ReadonlySet<string> } | { kind: 'failed'; reason: string };

export interface ProbeTiming {
  /** How long a worker has to mark a probe done, from `sentAt`. */
  timeoutMs: number;
  /** Time between two checks of the done marks. */
  checkEveryMs: number;
}

const iso = (ms: number): string => new Date(ms).toISOString();

/** The next check: a check interval on, but never after the deadline, which needs a check of its own. */
const nextCheckAt = (sentAt: number, now: number, timing: ProbeTiming): string =>
  iso(Math.min(sentAt + timing.timeoutMs, now + timing.checkEveryMs));

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
  timing: ProbeTiming,
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
      checkAt: nextCheckAt(sentAt, sentAt, timing),
      probes: probes.map(({ deliveryId, route }) => ({ deliveryId, route })),
    },
  };
}

/** The probes of a round whose done marks a check still has to look for. */
export function unmarkedProbes(sent: ProbeRoundStatus): string[] {
  return sent.probes.filter((p) => p.roundTripMs === undefined).map((p) => p.deliveryId);
}

/**
 * The round after a check at `now`, pure. A probe found done keeps the time of the check that first
 * found it as its round trip. All done: judged. The deadline passed with some still unmarked: judged,
 * those timed out. The store could not be asked: judged, as unchecked (a provider error, never a
 * failure of the migration). Otherwise pending, checked again later.
 */
export function checkedRound(
  sent: ProbeRoundStatus,
  marks: DoneMarks,
  now: number,
  timing: ProbeTiming,
): ProbeRoundState {
  const sentAt = Date.parse(sent.sentAt);
  const probes = sent.probes.map((probe) =>
    probe.roundTripMs === undefined && marks.kind === 'read' && marks.done.has(probe.deliveryId)
      ? { ...probe, roundTripMs: Math.max(0, now - sentAt) }
      : probe,
  );
  const overdue = now >= sentAt + timing.timeoutMs;
  if (marks.kind === 'read' && !overdue && probes.some((p) => p.roundTripMs === undefined)) {
    return { kind: 'pending', status: { ...sent, checkAt: nextCheckAt(sentAt, now, timing), probes } };
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
