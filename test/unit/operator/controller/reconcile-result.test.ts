import { describe, expect, it } from 'vitest';
import { PHASES } from '../../../../src/operator/api/status-schema.ts';
import { reconcileResultOf } from '../../../../src/operator/controller/reconciler.ts';
import type { Decision } from '../../../../src/operator/stages/actions.ts';
import { fastSpec, SimulatedDeployments } from '../stages/simulated-deployments.ts';

/** Actions that need a connection of the migration's own: SQS, the stream, or both. */
const QUEUE_ACTIONS = new Set(['moveRedisToSqs', 'sweepSqs', 'deleteSqsQueue']);

const needsQueues = (decision: Decision): boolean => decision.actions.some((a) => QUEUE_ACTIONS.has(a.kind));
const atRest = (decision: Decision): boolean => reconcileResultOf(decision).atRest === true;

describe('the result a reconcile hands the controller', () => {
  it.each(PHASES.map((phase) => [phase, phase === 'Succeeded' || phase === 'RolledBack']))(
    'in phase %s, at rest: %s; a requeue the decision asks for is kept',
    (phase, rest) => {
      const result = reconcileResultOf({ status: { phase }, requeueAfterMs: 1_000 });
      expect(result).toEqual({ requeueAfterMs: 1_000, ...(rest && { atRest: true }) });
    },
  );

  it('a rollback whose drain the operator does itself is at rest only once RolledBack; a retry is not', async () => {
    const sim = new SimulatedDeployments(fastSpec({ rollback: { drainTimeout: '5s' } }));
    await sim.runUntil(() => sim.status.stage === 'dual' && sim.status.phase === 'Progressing');
    // Consumers make no progress: the mover takes over after drainTimeout.
    sim.redisBacklog = { known: true, value: 40 };
    sim.tokens = { abort: 'a' };
    await sim.runUntil(() => (sim.decisions.at(-1)?.actions ?? []).some((a) => a.kind === 'moveRedisToSqs'));
    await sim.run(3);
    sim.redisBacklog = { known: true, value: 0 };
    await sim.runUntil(() => sim.status.phase === 'RolledBack');
    await sim.run(2);

    const moving = sim.decisions.filter((d) => d.actions.some((a) => a.kind === 'moveRedisToSqs'));
    expect(moving.length).toBeGreaterThanOrEqual(4);
    expect(moving.filter(atRest)).toEqual([]);
    const firstAtRest = sim.decisions.findIndex(atRest);
    expect(sim.decisions.slice(0, firstAtRest).every((d) => d.status.phase !== 'RolledBack')).toBe(true);
    expect(sim.decisions.slice(firstAtRest).every(atRest)).toBe(true);

    sim.tokens = { abort: 'a', retry: 'r' };
    await sim.run(1);
    expect(sim.status.phase).toBe('Progressing');
    expect(atRest(sim.decisions.at(-1) as Decision)).toBe(false);
  });

  it('a migration that deletes its queue is at rest only once Succeeded, after its last sweep', async () => {
    const spec = fastSpec();
    const sim = new SimulatedDeployments(
      fastSpec({ stages: { ...spec.stages, cleanup: { stabilityWindow: '10s', deleteQueue: true } } }),
    );
    await sim.runUntil(() => sim.status.queueDeletedAt !== undefined);
    await sim.run(2);
    // The queue reads gone once deleted; the migration succeeds then.
    sim.sqsRemainder = { queue: 'gone', deadLetters: 'none' };
    await sim.runUntil(() => sim.status.phase === 'Succeeded');
    await sim.run(2);

    expect(sim.decisions.filter(needsQueues).length).toBeGreaterThan(0);
    expect(sim.decisions.filter((d) => needsQueues(d) && atRest(d))).toEqual([]);
    const firstAtRest = sim.decisions.findIndex(atRest);
    expect(sim.decisions[firstAtRest]?.status.phase).toBe('Succeeded');
    expect(sim.decisions.slice(firstAtRest).every(atRest)).toBe(true);
  });
});
