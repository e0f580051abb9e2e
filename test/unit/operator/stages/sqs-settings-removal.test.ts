import { describe, expect, it } from 'vitest';
import { reasons, SimulatedDeployments, SQS_ENV } from './simulated-deployments.ts';

const QUEUE_URL = SQS_ENV.find((e) => e.name === 'SQS_QUEUE_URL')?.value ?? '';

/** SQS_QUEUE_URL as the adapter reads it: an empty value is unset. */
const queueUrlOf = (sim: SimulatedDeployments, name: string): string => sim.env(name, 'SQS_QUEUE_URL') ?? '';

describe('the SQS settings through a migration', () => {
  it('are removed from consumers once they read only Redis, and from producers at cleanup', async () => {
    const sim = new SimulatedDeployments();
    const seen = new Map<string, { producer: string; consumer: string }>();
    await sim.pass();
    await sim.runUntil(() => {
      const at =
        sim.status.phase === 'Succeeded' ? 'Succeeded' : `${sim.status.stage ?? ''}/${sim.status.step ?? 0}`;
      seen.set(at, { producer: queueUrlOf(sim, 'webhook'), consumer: queueUrlOf(sim, 'worker') });
      return sim.status.phase === 'Succeeded';
    });
    const on = { producer: QUEUE_URL, consumer: QUEUE_URL };
    expect(Object.fromEntries(seen)).toEqual({
      'dual/0': on,
      'staging/0': on,
      'canary/0': on,
      'canary/1': on,
      'full/0': on,
      'full/1': { producer: QUEUE_URL, consumer: '' },
      'cleanup/0': { producer: QUEUE_URL, consumer: '' },
      'cleanup/1': { producer: '', consumer: '' },
      Succeeded: { producer: '', consumer: '' },
    });
  });

  it('come back exactly as recorded on a rollback after consumers lost them', async () => {
    const sim = new SimulatedDeployments();
    await sim.pass();
    await sim.runUntil(
      () => sim.status.stage === 'full' && sim.status.step === 1 && queueUrlOf(sim, 'worker') === '',
    );
    sim.tokens = { abort: 'a' };
    await sim.runUntil(() => sim.status.phase === 'RolledBack');
    for (const name of ['webhook', 'worker']) {
      expect(sim.deployment(name).container?.env).toEqual(SQS_ENV);
    }
  });

  it('are left as they are by a migration recorded before the operator managed them', async () => {
    const sim = new SimulatedDeployments();
    const legacy = { env: [{ name: 'QUEUE_TYPE', value: 'sqs' }] };
    sim.status = {
      originals: [
        { deployment: 'webhook', container: 'webhook', role: 'producer', ...legacy },
        { deployment: 'worker', container: 'worker', role: 'consumer', ...legacy },
      ],
    };
    // The creator owns the value and the operator never applied it.
    for (const name of ['webhook', 'worker']) {
      sim.deployment(name).foreignFields = [
        { variable: 'SQS_QUEUE_URL', manager: 'kubectl-client-side-apply' },
      ];
    }
    await sim.pass();
    await sim.runUntil(() => sim.status.phase === 'Succeeded');
    expect(reasons(sim)).not.toContain('FieldConflict');
    expect(queueUrlOf(sim, 'webhook')).toBe(QUEUE_URL);
    expect(queueUrlOf(sim, 'worker')).toBe(QUEUE_URL);
  });
});
