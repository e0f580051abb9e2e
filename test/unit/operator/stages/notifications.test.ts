import { describe, expect, it } from 'vitest';
import { fastSpec, SimulatedDeployments } from './simulated-deployments.ts';

const URL = 'http://127.0.0.1:9/hooks/queueshift';

describe('notifications', () => {
  it('asks for one POST per transition, after its Event, when a URL is set', async () => {
    const sim = new SimulatedDeployments(fastSpec({ notificationUrl: URL }));
    await sim.pass();
    await sim.runUntil(() => sim.status.stage === 'canary');
    sim.tokens = { abort: 'stop' };
    await sim.runUntil(() => sim.status.phase === 'RolledBack');
    const history = (sim.status.history ?? []).map((h) => h.reason);
    const notified = sim.decisions.flatMap((d) => d.actions.flatMap((a) => (a.kind === 'notify' ? [a] : [])));
    expect(notified.map((n) => n.entry.reason)).toEqual(history);
    expect(notified.every((n) => n.url === URL)).toBe(true);
    expect(notified.find((n) => n.entry.reason === 'RollbackStarted')?.phase).toBe('RollingBack');
    for (const decision of sim.decisions) {
      const kinds = decision.actions.map((a) => a.kind);
      if (kinds.includes('notify'))
        expect(kinds.lastIndexOf('recordEvent')).toBeLessThan(kinds.indexOf('notify'));
    }
  });

  it('asks for none without a URL', async () => {
    const sim = new SimulatedDeployments();
    await sim.pass();
    await sim.runUntil(() => sim.status.stage === 'staging');
    expect(sim.decisions.flatMap((d) => d.actions).some((a) => a.kind === 'notify')).toBe(false);
  });
});
