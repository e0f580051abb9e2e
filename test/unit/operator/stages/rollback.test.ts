import { describe, expect, it } from 'vitest';
import type { Verdict } from '../../../../src/operator/analysis/verdict.ts';
import { reasons, SimulatedDeployments } from './simulated-deployments.ts';

/** Each Deployment change of the run, in order: `<deployment> QUEUE_TYPE[/fallback]`. */
function changeLog(sim: SimulatedDeployments, from: number): string[] {
  return sim.decisions.slice(from).flatMap((d) =>
    d.actions.flatMap((a) => {
      if (a.kind === 'deleteCanary') return [`${a.name} deleted`];
      if (a.kind !== 'applySettings' && a.kind !== 'applyCanary') return [];
      const value = (name: string): string => a.settings.env.find((e) => e.name === name)?.value ?? '';
      const fallback = value('QUEUE_FALLBACK_TYPE');
      const name = a.kind === 'applySettings' ? a.deployment : a.name;
      return [`${name} ${value('QUEUE_TYPE')}${fallback === '' ? '' : `/${fallback}`}`];
    }),
  );
}

const crashLoop = (sim: SimulatedDeployments, name: string): void => {
  sim.deployment(name).crashLoopingPods = [`${name}-7d9f-abcde`];
};

describe('rollback', () => {
  it.each([
    {
      from: 'canary',
      reach: (sim: SimulatedDeployments) => sim.status.stage === 'canary',
      changes: ['webhook-canary deleted', 'webhook sqs', 'worker sqs'],
      steps: ['RollbackProducersToOriginal', 'RollbackDrainRedis', 'RollbackConsumersToOriginal'],
    },
    {
      from: 'full, consumers on Redis',
      reach: (sim: SimulatedDeployments) => sim.status.stage === 'full' && sim.status.step === 1,
      changes: ['worker dual', 'webhook sqs', 'worker sqs'],
      steps: [
        'RollbackConsumersToDual',
        'RollbackProducersToOriginal',
        'RollbackDrainRedis',
        'RollbackConsumersToOriginal',
      ],
    },
  ])(
    'from $from goes back in the order that keeps a reader on every queue',
    async ({ reach, changes, steps }) => {
      const sim = new SimulatedDeployments();
      await sim.pass();
      await sim.runUntil(() => reach(sim));
      await sim.run(2);
      const from = sim.decisions.length;
      sim.tokens = { abort: 'a' };
      await sim.runUntil(() => sim.status.phase === 'RolledBack');
      expect(changeLog(sim, from)).toEqual(changes);
      const history = reasons(sim);
      expect(history.slice(history.indexOf('RollbackStarted') + 1)).toEqual([...steps, 'RolledBack']);
      expect(sim.status.message).toBe('rolled back: aborted by token a');
    },
  );

  it('starts by itself when a rollout fails (crash loop), and names the failure', async () => {
    const sim = new SimulatedDeployments();
    await sim.pass();
    await sim.run(3);
    crashLoop(sim, 'worker');
    await sim.run(1);
    expect(sim.status.phase).toBe('RollingBack');
    expect(sim.status.rollback?.reason).toBe(
      'gate failed: Deployment worker: pods in CrashLoopBackOff: worker-7d9f-abcde',
    );
    expect(sim.status.gates).toContainEqual({
      gate: 'rollout-health',
      subject: 'worker',
      verdict: 'failure',
      metric: 'crash-looping-pods',
      value: '1',
      threshold: '0',
      message: 'Deployment worker: pods in CrashLoopBackOff: worker-7d9f-abcde',
    });
    const started = sim.decisions
      .at(-1)
      ?.actions.find((a) => a.kind === 'recordEvent' && a.entry.reason === 'RollbackStarted');
    expect(started?.kind === 'recordEvent' && started.type).toBe('Warning');
  });

  it('judges the step back to the originals on the template it rolls out, not the one it replaces', async () => {
    const sim = new SimulatedDeployments();
    await sim.pass();
    await sim.run(3);
    // The consumers' dual template crash-loops: the gate fails and the migration goes back.
    crashLoop(sim, 'worker');
    await sim.runUntil(() => sim.status.rollback?.step === 'consumers-to-original');
    // That pass patched the worker back to its originals: the crash loops were the dual template's.
    sim.deployment('worker').crashLoopingPods = [];
    await sim.runUntil(() => sim.status.phase === 'RolledBack');
    expect(reasons(sim)).not.toContain('RollbackStepFailing');
  });

  it('treats an exceeded progress deadline as a failed gate', async () => {
    const sim = new SimulatedDeployments();
    await sim.pass();
    sim.autoRollout = false;
    sim.deployment('webhook').progressDeadlineExceeded = true;
    await sim.run(1);
    expect(sim.status.rollback?.reason).toMatch(
      /^gate failed: Deployment webhook: rollout exceeded its progress deadline/,
    );
  });

  it('pauses instead, with a condition, when automatic rollback is off', async () => {
    const sim = new SimulatedDeployments();
    sim.spec = { ...sim.spec, rollback: { ...sim.spec.rollback, automatic: false } };
    await sim.pass();
    await sim.run(2);
    crashLoop(sim, 'worker');
    await sim.run(5);
    expect(sim.status.phase).toBe('Paused');
    expect(sim.status.conditions?.find((c) => c.type === 'Paused')).toMatchObject({
      status: 'True',
      reason: 'GatesFailing',
    });
    expect(reasons(sim).filter((r) => r === 'GatesFailing')).toHaveLength(1);
    sim.deployment('worker').crashLoopingPods = [];
    await sim.run(1);
    expect(sim.status.phase).toBe('Progressing');
  });

  it.each([
    [
      'unknown lag',
      { known: false as const, reason: 'XINFO GROUPS reported no lag' },
      /with lag known \(XINFO GROUPS reported no lag\)/,
    ],
    ['a backlog', { known: true as const, value: 42 }, /with lag known \(backlog 42\)/],
  ])(
    'does not give consumers their original settings while Redis has %s, promote or not',
    async (_what, backlog, message) => {
      const sim = new SimulatedDeployments();
      await sim.pass();
      await sim.runUntil(() => sim.status.stage === 'canary');
      sim.redisBacklog = backlog;
      sim.tokens = { abort: 'a' };
      await sim.run(5);
      sim.tokens = { abort: 'a', promote: 'p' };
      await sim.run(30);
      expect(sim.status.rollback?.step).toBe('drain-redis');
      expect(sim.status.message).toMatch(message);
      expect(sim.env('worker', 'QUEUE_TYPE')).toBe('dual');
      sim.redisBacklog = { known: true, value: 0 };
      await sim.runUntil(() => sim.status.phase === 'RolledBack');
      expect(sim.env('worker', 'QUEUE_TYPE')).toBe('sqs');
    },
  );

  it('retries a failing step with a doubling backoff, reports each attempt, and never skips ahead', async () => {
    const sim = new SimulatedDeployments();
    await sim.pass();
    await sim.run(2);
    sim.tokens = { abort: 'a' };
    await sim.run(1);
    // The producers' original template crash-loops: the step cannot finish.
    crashLoop(sim, 'webhook');
    await sim.run(60);
    expect(sim.status.rollback).toMatchObject({ step: 'producers-to-original', failures: 4 });
    const attempts = (sim.status.history ?? []).filter((h) => h.reason === 'RollbackStepFailing');
    const gaps = attempts.slice(1).map((h, i) => Date.parse(h.at) - Date.parse(attempts[i]?.at ?? ''));
    expect(gaps).toEqual([5_000, 10_000, 20_000]);
    expect(attempts[0]?.message).toBe(
      'rollback step producers-to-original failing (attempt 1): Deployment webhook: pods in CrashLoopBackOff: webhook-7d9f-abcde',
    );
    expect(sim.env('worker', 'QUEUE_TYPE')).toBe('dual');
    sim.deployment('webhook').crashLoopingPods = [];
    await sim.runUntil(() => sim.status.phase === 'RolledBack');
  });

  it('is not stopped by spec.paused', async () => {
    const sim = new SimulatedDeployments();
    await sim.pass();
    sim.tokens = { abort: 'a' };
    sim.spec = { ...sim.spec, paused: true };
    await sim.runUntil(() => sim.status.phase === 'RolledBack');
  });

  it('ignores failures of Deployments the current step does not wait on', async () => {
    const sim = new SimulatedDeployments();
    await sim.pass();
    sim.redisBacklog = { known: true, value: 3 };
    sim.tokens = { abort: 'a' };
    await sim.run(3);
    expect(sim.status.rollback?.step).toBe('drain-redis');
    const other: Verdict = {
      gate: 'redis-backlog',
      verdict: 'failure',
      metric: 'backlog',
      value: '3',
      message: 'backlog growing',
      promotable: false,
    };
    sim.extraVerdicts = [other];
    await sim.run(3);
    expect(sim.status.rollback?.failures).toBe(0);
  });
});
