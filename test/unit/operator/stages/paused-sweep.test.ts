import { describe, expect, it } from 'vitest';
import type { StageName } from '../../../../src/operator/api/stages-schema.ts';
import type { Action } from '../../../../src/operator/stages/actions.ts';
import type { SqsRemainder } from '../../../../src/operator/stages/observations.ts';
import { SWEEP_BATCH } from '../../../../src/operator/stages/progression.ts';
import { fastSpec, SimulatedDeployments } from './simulated-deployments.ts';

const STRAGGLERS: SqsRemainder = {
  queue: { known: true, value: 4 },
  deadLetters: { known: true, value: 1 },
};

/** Holds short of a rollback: inconclusive rounds pause, and so does a failed gate. */
function migration(): SimulatedDeployments {
  return new SimulatedDeployments(
    fastSpec({ analysis: { interval: '1s', inconclusiveLimit: 2 }, rollback: { automatic: false } }),
  );
}

async function migrationAt(stage: StageName, step: number): Promise<SimulatedDeployments> {
  const sim = migration();
  await sim.pass();
  await sim.runUntil(() => sim.status.stage === stage && sim.status.step === step);
  return sim;
}

type Hold = (sim: SimulatedDeployments) => void;

const specPaused: Hold = (sim) => {
  sim.spec = { ...sim.spec, paused: true };
};
/** The built-in backlog metric applies from canary to cleanup. */
const noData: Hold = (sim) => {
  sim.readings.set('redis-backlog', { kind: 'no-data', reason: 'lag unknown' });
};
/** A GitOps tool puts the consumers back on `dual` and now owns QUEUE_TYPE. */
const fieldConflict: Hold = (sim) => {
  const worker = sim.deployment('worker');
  const env = (worker.container?.env ?? []).map((e) =>
    e.name === 'QUEUE_TYPE' ? { ...e, value: 'dual' } : e,
  );
  worker.container = { env, volumeMounts: [] };
  worker.foreignFields = [{ variable: 'QUEUE_TYPE', manager: 'argocd-controller' }];
};
const crashLoop: Hold = (sim) => {
  sim.deployment('worker').crashLoopingPods = ['worker-7d9f-abcde'];
};

const kinds = (actions: readonly Action[]): string[] => actions.map((a) => a.kind);

const sweepsOf = (sim: SimulatedDeployments, passes: number): Action[] =>
  sim.decisions.slice(-passes).flatMap((d) => d.actions.filter((a) => a.kind === 'sweepSqs'));

describe('sweeps while the migration is held', () => {
  it.each<[string, StageName, number, Hold, string]>([
    ['spec.paused', 'full', 1, specPaused, 'SpecPaused'],
    ['spec.paused', 'cleanup', 0, specPaused, 'SpecPaused'],
    ['spec.paused', 'cleanup', 1, specPaused, 'SpecPaused'],
    ['an analysis pause', 'full', 1, noData, 'AnalysisInconclusive'],
    ['a field conflict', 'full', 1, fieldConflict, 'FieldConflict'],
    ['a failing gate without automatic rollback', 'cleanup', 0, crashLoop, 'GatesFailing'],
  ])(
    'held by %s in %s step %i: each pass asks for a sweep and nothing else, and the migration stays put',
    async (_by, stage, step, hold, reason) => {
      const sim = await migrationAt(stage, step);
      hold(sim);
      await sim.runUntil(() => sim.status.phase === 'Paused');
      const held = structuredClone(sim.status);
      const env = (name: string): unknown => structuredClone(sim.deployment(name).container?.env);
      const [webhookEnv, workerEnv] = [env('webhook'), env('worker')];

      sim.sqsRemainder = STRAGGLERS;
      await sim.run(1);
      expect(sim.decisions.at(-1)?.actions).toEqual([
        {
          kind: 'sweepSqs',
          maxMessages: SWEEP_BATCH,
          counted: { movedFromQueue: 0, movedFromDeadLetterQueue: 0 },
          at: new Date(sim.now).toISOString(),
        },
      ]);
      expect(sim.decisions.at(-1)?.requeueAfterMs).toBe(1_000);

      // The executor adds what moved to status.sweep; the next sweep counts on from there.
      const swept = { movedFromQueue: 4, movedFromDeadLetterQueue: 1, lastMovedAt: sim.status.stepStartedAt };
      sim.status = { ...sim.status, sweep: swept };
      await sim.run(30);
      expect(sim.decisions.slice(-30).flatMap((d) => kinds(d.actions))).toEqual(Array(30).fill('sweepSqs'));
      expect(sweepsOf(sim, 1)).toMatchObject([{ counted: swept }]);
      expect(sim.status).toEqual({ ...held, sweep: swept });
      expect(sim.status.conditions?.find((c) => c.type === 'Paused')).toMatchObject({
        status: 'True',
        reason,
      });
      expect([env('webhook'), env('worker')]).toEqual([webhookEnv, workerEnv]);

      sim.sqsRemainder = { queue: { known: true, value: 0 }, deadLetters: { known: true, value: 0 } };
      await sim.run(1);
      expect(sim.decisions.at(-1)?.actions).toEqual([]);
    },
  );

  it.each<[string, StageName, number]>([
    ['canary', 'canary', 0],
    ['full step 0 (consumers still read SQS)', 'full', 0],
  ])('held by spec.paused in %s: no sweep, whatever SQS holds', async (_where, stage, step) => {
    const sim = await migrationAt(stage, step);
    specPaused(sim);
    sim.sqsRemainder = STRAGGLERS;
    sim.sqsDepth = { known: true, value: 4 };
    await sim.run(10);
    expect(sim.status).toMatchObject({ phase: 'Paused', stage, step });
    expect(sweepsOf(sim, 10)).toEqual([]);
  });

  it.each<[string, boolean]>([
    ['progressing', false],
    ['paused', true],
  ])('never sweeps in a dry run, %s in full step 1', async (_state, paused) => {
    const sim = await migrationAt('full', 1);
    sim.spec = { ...sim.spec, dryRun: true, paused };
    sim.sqsRemainder = STRAGGLERS;
    await sim.run(10);
    expect(sweepsOf(sim, 10)).toEqual([]);
    expect(sim.decisions.slice(-10).flatMap((d) => kinds(d.actions))).toEqual(['writeStatus']);
  });
});
