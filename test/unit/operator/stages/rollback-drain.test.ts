import { describe, expect, it } from 'vitest';
import type { Known } from '../../../../src/adapter/types.ts';
import type { Action, Decision } from '../../../../src/operator/stages/actions.ts';
import type { RedisMoveTally } from '../../../../src/operator/stages/observations.ts';
import { fastSpec, reasons, SimulatedDeployments } from './simulated-deployments.ts';

type Move = Extract<Action, { kind: 'moveRedisToSqs' }>;

const backlogOf = (value: number): Known<number> => ({ known: true, value });

/** A migration rolled back from canary and now in drain-redis, with `backlog` in Redis. */
async function draining(backlog: Known<number>, drainTimeout = '30s'): Promise<SimulatedDeployments> {
  const sim = new SimulatedDeployments(fastSpec({ rollback: { drainTimeout } }));
  await sim.pass();
  await sim.runUntil(() => sim.status.stage === 'canary');
  sim.redisBacklog = backlog;
  sim.tokens = { abort: 'a' };
  await sim.runUntil(() => sim.status.rollback?.step === 'drain-redis');
  return sim;
}

/**
 * One reconcile during the drain with what the controller gathers then: the backlog and, once a
 * mover ran in this process, its tally. Rollout verdicts play no part in this step.
 */
function drainPass(sim: SimulatedDeployments, seconds: number, moves?: RedisMoveTally): Decision {
  sim.now += seconds * 1_000;
  return sim.passObserving({
    ...(sim.redisBacklog !== undefined && { redisBacklog: sim.redisBacklog }),
    ...(moves !== undefined && { redisMoves: moves }),
  });
}

const movesOf = (decision: Decision): Move[] =>
  decision.actions.filter((a): a is Move => a.kind === 'moveRedisToSqs');

describe('rollback drain of Redis', () => {
  it('gives consumers drainTimeout to make progress, then moves a batch every pass until the backlog reads 0', async () => {
    const sim = await draining(backlogOf(50));
    const quiet = drainPass(sim, 29);
    expect(movesOf(quiet)).toEqual([]);
    // Woken when the bound runs out, not a whole analysis interval later.
    expect(quiet.requeueAfterMs).toBeLessThanOrEqual(1_000);
    const started = drainPass(sim, 1);
    // Entries other consumers hold are taken once idle past the consumers' claim time (default 60s).
    expect(movesOf(started)).toEqual([{ kind: 'moveRedisToSqs', maxEntries: 200, claimIdleMs: 60_000 }]);
    // The move comes after the status that records it is written.
    const kinds = started.actions.map((a) => a.kind);
    expect(kinds.indexOf('writeStatus')).toBeLessThan(kinds.indexOf('moveRedisToSqs'));
    expect(started.requeueAfterMs).toBe(1_000);
    const event = started.actions.find((a) => a.kind === 'recordEvent');
    expect(event?.kind === 'recordEvent' && event.type).toBe('Warning');
    expect(sim.status.rollback?.drain?.moverStartedAt).toBe(new Date(sim.now).toISOString());
    for (const backlog of [50, 49, 20, 1]) {
      sim.redisBacklog = backlogOf(backlog);
      expect(movesOf(drainPass(sim, 1))).toHaveLength(1);
    }
    expect(reasons(sim).filter((r) => r === 'RollbackMoverStarted')).toHaveLength(1);
    expect(sim.env('worker', 'QUEUE_TYPE')).toBe('dual');
    sim.redisBacklog = backlogOf(0);
    expect(movesOf(drainPass(sim, 1))).toEqual([]);
    expect(sim.status.rollback?.step).toBe('consumers-to-original');
    await sim.runUntil(() => sim.status.phase === 'RolledBack');
    expect(sim.env('worker', 'QUEUE_TYPE')).toBe('sqs');
  });

  it('claims from other consumers only past their own claim time (REDIS_CLAIM_IDLE), the longest of them', async () => {
    const sim = await draining(backlogOf(10));
    const worker = sim.deployment('worker');
    worker.container = {
      env: [...(worker.container?.env ?? []), { name: 'REDIS_CLAIM_IDLE', value: '90s' }],
      volumeMounts: [],
    };
    expect(movesOf(drainPass(sim, 30))).toMatchObject([{ claimIdleMs: 90_000 }]);
  });

  it('lets consumers that make progress drain on their own: the bound counts from the last drop', async () => {
    const sim = await draining(backlogOf(100));
    for (let backlog = 99; backlog > 90; backlog -= 1) {
      sim.redisBacklog = backlogOf(backlog);
      expect(movesOf(drainPass(sim, 20))).toEqual([]);
    }
    expect(sim.status.rollback?.drain).toMatchObject({ lowestBacklog: 91, moved: 0 });
    // A backlog that grows back (an old pod published) is no progress.
    sim.redisBacklog = backlogOf(95);
    expect(movesOf(drainPass(sim, 29))).toEqual([]);
    expect(movesOf(drainPass(sim, 1))).toHaveLength(1);
  });

  it('counts an unknown backlog as no progress, and never as drained', async () => {
    const sim = await draining({ known: false, reason: 'XINFO GROUPS reported no lag' });
    expect(movesOf(drainPass(sim, 29))).toEqual([]);
    expect(movesOf(drainPass(sim, 1))).toHaveLength(1);
    drainPass(sim, 60);
    expect(sim.status.rollback?.step).toBe('drain-redis');
    expect(sim.status.message).toMatch(/XINFO GROUPS reported no lag; the operator moves entries to SQS/);
  });

  it('takes in the mover’s count once, across passes and a restarted operator, and shows its failures', async () => {
    const sim = await draining(backlogOf(500));
    // A count from an earlier drain of the same process is where this one starts from.
    drainPass(sim, 1, { mover: 'first', moved: 40 });
    drainPass(sim, 29, { mover: 'first', moved: 40 });
    expect(sim.status.rollback?.drain?.moved).toBe(0);
    drainPass(sim, 1, { mover: 'first', moved: 240 });
    drainPass(sim, 1, { mover: 'first', moved: 240 });
    expect(sim.status.rollback?.drain?.moved).toBe(200);
    drainPass(sim, 1, { mover: 'first', moved: 240, error: 'sending d-1 to SQS: connect ECONNREFUSED' });
    expect(sim.status.rollback?.drain?.moverError).toBe('sending d-1 to SQS: connect ECONNREFUSED');
    expect(sim.status.message).toMatch(/200 moved, latest move failed: sending d-1 to SQS/);
    // A restarted operator's mover counts from 0 again.
    const at = drainPass(sim, 1, { mover: 'second', moved: 30 });
    expect(sim.status.rollback?.drain).toMatchObject({
      moved: 230,
      lastMovedAt: new Date(sim.now).toISOString(),
      tally: { mover: 'second', moved: 30 },
    });
    expect(sim.status.rollback?.drain?.moverError).toBeUndefined();
    expect(movesOf(at)).toHaveLength(1);
  });

  it('waits for the producers’ old-template pods to be gone even with Redis empty', async () => {
    const sim = await draining(backlogOf(3));
    const webhook = sim.deployment('webhook');
    // A pod of the Redis-publishing template lingers (terminating slowly, say).
    webhook.totalReplicas = webhook.replicas + 1;
    sim.redisBacklog = backlogOf(0);
    drainPass(sim, 1);
    expect(sim.status.rollback?.step).toBe('drain-redis');
    expect(sim.status.message).toMatch(/the old-template pods of Deployment webhook to be gone/);
    webhook.totalReplicas = webhook.replicas;
    drainPass(sim, 1);
    expect(sim.status.rollback?.step).toBe('consumers-to-original');
  });
});

describe('rollback once cleanup deleted the queue', () => {
  async function queueDeleted(): Promise<SimulatedDeployments> {
    const sim = new SimulatedDeployments();
    await sim.pass();
    await sim.runUntil(() => sim.status.stage === 'cleanup');
    // As cleanup writes it before deleting the queue.
    sim.status.queueDeletedAt = new Date(sim.now).toISOString();
    return sim;
  }

  it.each([
    {
      asked: 'an abort',
      ask: (sim: SimulatedDeployments) => {
        sim.tokens = { abort: 'a' };
      },
      why: /^no rollback \(aborted by token a\): cleanup deleted the SQS queue at /,
    },
    {
      asked: 'a failed gate',
      ask: (sim: SimulatedDeployments) => {
        sim.deployment('worker').crashLoopingPods = ['worker-7d9f-abcde'];
      },
      why: /^no rollback \(gate failed: Deployment worker: pods in CrashLoopBackOff/,
    },
  ])('refuses $asked with a condition, reported once', async ({ ask, why }) => {
    const sim = await queueDeleted();
    ask(sim);
    await sim.run(5);
    expect(sim.status.phase).not.toBe('RollingBack');
    expect(sim.status.rollback).toBeUndefined();
    expect(sim.env('webhook', 'QUEUE_TYPE')).toBe('redis');
    expect(sim.status.conditions?.find((c) => c.type === 'RollbackRefused')).toMatchObject({
      status: 'True',
      reason: 'QueueDeleted',
      message: expect.stringMatching(why) as string,
    });
    expect(reasons(sim).filter((r) => r === 'RollbackRefused')).toHaveLength(1);
  });
});
