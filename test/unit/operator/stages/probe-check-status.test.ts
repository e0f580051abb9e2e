import { describe, expect, it } from 'vitest';
import type { ProbeRoundStatus } from '../../../../src/operator/api/status-schema.ts';
import { roundAt } from '../../../../src/operator/analysis/analysis-round.ts';
import { probeOf } from '../../../../src/operator/analysis/probe-delivery.ts';
import {
  checkedRound,
  probeTiming,
  sentRound,
  type ProbeRoundState,
} from '../../../../src/operator/analysis/probe-round.ts';
import type { Decision } from '../../../../src/operator/stages/actions.ts';
import { roundClockOf } from '../../../../src/operator/stages/analysis-step.ts';
import { SimulatedDeployments } from './simulated-deployments.ts';

function pending(state: ProbeRoundState): ProbeRoundStatus {
  if (state.kind !== 'pending') throw new Error(`expected a pending round, got ${JSON.stringify(state)}`);
  return state.status;
}

/** A staging step whose round 1 is due, as the simulated controller leaves it. */
async function inStaging(): Promise<SimulatedDeployments> {
  const sim = new SimulatedDeployments();
  await sim.pass();
  await sim.runUntil(() => sim.status.stage === 'staging');
  sim.now += 1_000;
  return sim;
}

/** One reconcile whose measurer handed back the round's probes, still pending. */
function passWith(sim: SimulatedDeployments, probes: ProbeRoundStatus): Decision {
  const clock = roundClockOf(sim.spec, sim.status);
  if (clock === undefined) throw new Error('the migration is in a step');
  return sim.passObserving({ analysis: { due: roundAt(clock, probes.round), readings: new Map(), probes } });
}

const writesStatus = (decision: Decision): boolean => decision.actions.some((a) => a.kind === 'writeStatus');

describe('the status writes of a probe round', () => {
  it('happen when probes are sent and when one is first found done, never for a check that finds nothing new', async () => {
    const sim = await inStaging();
    const timing = probeTiming(sim.spec.analysis);
    const probes = ['p-0', 'p-1'].map((id) => probeOf('team/webhooks', id, 'stream'));
    const sentAt = sim.now;
    const sent = pending(sentRound(1, sentAt, probes, new Map()));

    const sending = passWith(sim, sent);
    expect(writesStatus(sending)).toBe(true);
    expect(sim.status.analysis?.probes).toEqual(sent);
    // The next check is derived from the send time, not read from status.
    expect(sending.requeueAfterMs).toBe(timing.checkEveryMs);

    // Every check before the deadline finds nothing new: not one status write, each asks for the next.
    const checks: Decision[] = [];
    const deadline = sentAt + timing.timeoutMs;
    for (
      let at = sentAt + timing.checkEveryMs;
      at + timing.checkEveryMs < deadline;
      at += timing.checkEveryMs
    ) {
      sim.now = at;
      const doneAt = new Map<string, number>();
      checks.push(passWith(sim, pending(checkedRound(sent, { kind: 'read', doneAt }, at, timing))));
    }
    expect(checks.length).toBeGreaterThan(10);
    expect(checks.filter(writesStatus)).toEqual([]);
    expect(checks.map((d) => d.requeueAfterMs)).toEqual(checks.map(() => timing.checkEveryMs));

    // The check that first finds a probe done writes its round trip, once.
    sim.now += timing.checkEveryMs;
    const found = pending(
      checkedRound(sent, { kind: 'read', doneAt: new Map([['p-1', sentAt + 300]]) }, sim.now, timing),
    );
    expect(writesStatus(passWith(sim, found))).toBe(true);
    expect(sim.status.analysis?.probes?.probes).toContainEqual({
      deliveryId: 'p-1',
      route: 'stream',
      roundTripMs: 300,
    });
  });
});
