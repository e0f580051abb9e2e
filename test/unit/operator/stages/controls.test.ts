import { describe, expect, it } from 'vitest';
import { reasons, SimulatedDeployments } from './simulated-deployments.ts';

/** A migration in `dual` whose rollouts finished, waiting out its 10 s. */
async function inDual(): Promise<SimulatedDeployments> {
  const sim = new SimulatedDeployments();
  await sim.pass();
  await sim.run(1);
  expect(sim.status).toMatchObject({ stage: 'dual', phase: 'Progressing' });
  return sim;
}

describe('the promote, abort and retry controls', () => {
  it('promote skips the time wait of the current step at once, and only once', async () => {
    const sim = await inDual();
    sim.tokens = { promote: 't1' };
    await sim.run(1);
    expect(sim.status.stage).toBe('staging');
    expect(sim.status.lastHandledTokens).toEqual({ promote: 't1' });
    expect(reasons(sim).slice(-2)).toEqual(['Promoted', 'StagingStarted']);
    // The annotation is still there: it does not skip staging's wait too, nor later ones.
    await sim.run(9);
    expect(sim.status.stage).toBe('staging');
    expect(reasons(sim).filter((r) => r === 'Promoted')).toHaveLength(1);
  });

  it('a new token promotes again; a token handled before a restart stays handled', async () => {
    const sim = await inDual();
    sim.tokens = { promote: 't1' };
    await sim.run(1);
    // A restarted operator starts from the status it wrote: the same token is not acted on.
    const restarted = new SimulatedDeployments(sim.spec);
    Object.assign(restarted, {
      status: structuredClone(sim.status),
      now: sim.now,
      tokens: { promote: 't1' },
    });
    for (const [name, d] of sim.deployments) restarted.deployments.set(name, structuredClone(d));
    await restarted.run(1);
    expect(restarted.status.stage).toBe('staging');
    expect(restarted.status.promoted).toBeUndefined();
    restarted.tokens = { promote: 't2' };
    await restarted.run(1);
    expect(restarted.status.stage).toBe('canary');
  });

  it('promote never skips a rollout that has not finished', async () => {
    const sim = new SimulatedDeployments();
    sim.autoRollout = false;
    await sim.pass();
    sim.tokens = { promote: 't1' };
    await sim.run(30);
    expect(sim.status.stage).toBe('dual');
    expect(sim.status.promoted).toEqual({ stage: 'dual', step: 0 });
    expect(sim.status.message).toMatch(/rollout in progress/);
    sim.finishRollouts();
    await sim.run(1);
    expect(sim.status.stage).toBe('staging');
  });

  it('promote never skips the SQS drain before consumers leave SQS', async () => {
    const sim = await inDual();
    await sim.runUntil(() => sim.status.stage === 'full');
    sim.sqsDepth = { known: true, value: 7 };
    await sim.run(2);
    sim.tokens = { promote: 'skip-drain' };
    await sim.run(30);
    expect(sim.status).toMatchObject({ stage: 'full', step: 0, promoted: { stage: 'full', step: 0 } });
    expect(sim.env('worker', 'QUEUE_TYPE')).toBe('dual');
  });

  it('promote gives the approval a step asks for', async () => {
    const sim = new SimulatedDeployments();
    sim.spec = { ...sim.spec, stages: { ...sim.spec.stages, dual: { duration: '10s', approval: true } } };
    await sim.pass();
    await sim.run(60);
    expect(sim.status.stage).toBe('dual');
    expect(sim.status.conditions?.find((c) => c.type === 'AwaitingApproval')?.status).toBe('True');
    expect(sim.status.message).toContain('approval: annotate queueshift.dev/promote=<token>');
    sim.tokens = { promote: 'approved' };
    await sim.run(1);
    expect(sim.status.stage).toBe('staging');
    expect(sim.status.conditions?.find((c) => c.type === 'AwaitingApproval')?.status).toBe('False');
  });

  it('a promote while paused is recorded as handled and ignored, and does nothing after the pause', async () => {
    const sim = await inDual();
    sim.spec = { ...sim.spec, paused: true };
    await sim.run(1);
    sim.tokens = { promote: 'early' };
    await sim.run(1);
    expect(sim.status.lastHandledTokens).toEqual({ promote: 'early' });
    expect(sim.status.history?.at(-1)).toMatchObject({
      reason: 'ControlIgnored',
      message: 'promote token early ignored: nothing to promote in phase Paused',
    });
    sim.spec = { ...sim.spec, paused: false };
    await sim.run(5);
    expect(sim.status.stage).toBe('dual');
  });

  it('abort rolls back, and wins over a promote given at the same time', async () => {
    const sim = await inDual();
    sim.tokens = { promote: 'p', abort: 'a' };
    await sim.run(1);
    expect(reasons(sim).slice(1, 4)).toEqual(['Aborted', 'RollbackStarted', 'RollbackProducersToOriginal']);
    expect(sim.status.lastHandledTokens).toEqual({ abort: 'a', promote: 'p' });
    expect(sim.status.history?.at(-1)).toMatchObject({ reason: 'ControlIgnored' });
    await sim.runUntil(() => sim.status.phase === 'RolledBack');
  });

  it('abort before the start leaves every Deployment untouched', async () => {
    const sim = new SimulatedDeployments();
    sim.spec = { ...sim.spec, paused: true };
    await sim.pass();
    sim.tokens = { abort: 'a' };
    sim.spec = { ...sim.spec, paused: false };
    await sim.run(5);
    expect(sim.status.phase).toBe('RolledBack');
    expect(sim.status.message).toBe('aborted before any change');
    expect(sim.status.originals).toBeUndefined();
    expect(sim.decisions.flatMap((d) => d.actions).filter((a) => a.kind === 'applySettings')).toEqual([]);
  });

  it('retry after a rollback starts again at dual with the originals recorded the first time', async () => {
    const sim = await inDual();
    const originals = structuredClone(sim.status.originals);
    sim.tokens = { abort: 'a' };
    await sim.runUntil(() => sim.status.phase === 'RolledBack');
    // Someone edits the Deployment while it is rolled back: the originals must not follow.
    const webhook = sim.deployment('webhook');
    webhook.container = {
      env: [...(webhook.container?.env ?? []), { name: 'REDIS_ADDRESS', value: 'elsewhere:6379' }],
      volumeMounts: [],
    };
    sim.tokens = { abort: 'a', retry: 'r' };
    await sim.run(1);
    expect(sim.status).toMatchObject({ phase: 'Progressing', stage: 'dual', step: 0 });
    expect(sim.status.originals).toEqual(originals);
    expect(sim.status.startedAt).toBe(sim.status.history?.[0]?.at);
    expect(reasons(sim).slice(-2)).toEqual(['Retried', 'DualStarted']);
  });

  it.each([
    ['retry', 'Progressing', 'nothing to retry in phase Progressing'],
    ['promote', 'RolledBack', 'nothing to promote in phase RolledBack'],
    ['abort', 'RolledBack', 'nothing to abort in phase RolledBack'],
  ])('a %s token in phase %s is recorded and ignored', async (control, phase, why) => {
    const sim = await inDual();
    if (phase === 'RolledBack') {
      sim.tokens = { abort: 'first' };
      await sim.runUntil(() => sim.status.phase === 'RolledBack');
    }
    sim.tokens = { ...sim.tokens, [control]: 'late' };
    await sim.run(1);
    expect(sim.status.phase).toBe(phase);
    expect(sim.status.history?.at(-1)).toMatchObject({
      reason: 'ControlIgnored',
      message: `${control} token late ignored: ${why}`,
    });
  });
});
