import { describe, expect, it } from 'vitest';
import type { Action } from '../../../../src/operator/stages/actions.ts';
import { decide } from '../../../../src/operator/stages/stage-machine.ts';
import { reasons, SimulatedDeployments, SQS_ENV } from './simulated-deployments.ts';

const kinds = (actions: readonly Action[]): string[] => actions.map((a) => a.kind);

/** Index of the first action that changes a Deployment. */
const firstChange = (actions: readonly Action[]): number =>
  actions.findIndex(
    (a) => a.kind === 'applySettings' || a.kind === 'applyCanary' || a.kind === 'deleteCanary',
  );

describe('the stage machine’s safety rules', () => {
  it('records the originals in status before the first Deployment change, and the finalizer before that', async () => {
    const sim = new SimulatedDeployments();
    const first = await sim.pass();
    expect(kinds(first.actions)).toEqual([
      'addFinalizer',
      'writeStatus',
      'applySettings',
      'applySettings',
      'recordEvent',
    ]);
    const written = first.actions[1];
    expect(written?.kind === 'writeStatus' && written.status.originals).toEqual([
      {
        deployment: 'webhook',
        container: 'webhook',
        role: 'producer',
        env: SQS_ENV,
      },
      {
        deployment: 'worker',
        container: 'worker',
        role: 'consumer',
        env: SQS_ENV,
      },
    ]);
  });

  it('writes every transition to status before the Deployment changes it implies', async () => {
    const sim = new SimulatedDeployments();
    await sim.pass();
    await sim.runUntil(() => sim.status.phase === 'Succeeded');
    const transitions = sim.decisions.filter((d) => d.actions.some((a) => a.kind === 'recordEvent'));
    for (const decision of transitions) {
      const changeAt = firstChange(decision.actions);
      if (changeAt === -1) continue;
      expect(kinds(decision.actions).indexOf('writeStatus')).toBeLessThan(changeAt);
      expect(kinds(decision.actions).lastIndexOf('recordEvent')).toBeGreaterThan(changeAt);
    }
    // Entering full: the status says full before the producers are told to publish to Redis.
    const entering = sim.decisions.find((d) =>
      d.actions.some((a) => a.kind === 'recordEvent' && a.entry.reason === 'FullStarted'),
    );
    const actions = entering?.actions ?? [];
    const write = actions.find((a) => a.kind === 'writeStatus');
    expect(write?.kind === 'writeStatus' && write.status.stage).toBe('full');
    const producer = actions.find((a) => a.kind === 'applySettings' && a.role === 'producer');
    expect(producer?.kind === 'applySettings' && producer.settings.env).toContainEqual({
      name: 'QUEUE_TYPE',
      value: 'redis',
    });
  });

  it('repeats a decision’s changes, not its transition, when the operator restarts before making them', async () => {
    const sim = new SimulatedDeployments();
    await sim.pass();
    let before = new Map(sim.deployments);
    let canariesBefore = new Map(sim.canaries);
    while (sim.status.stage !== 'full') {
      before = structuredClone(sim.deployments);
      canariesBefore = structuredClone(sim.canaries);
      await sim.run(1);
    }
    const entered = sim.decisions.at(-1)?.actions ?? [];
    // As if the operator died after writing status: the Deployments are as that decision saw them.
    const again = decide({
      spec: sim.spec,
      status: sim.status,
      generation: 1,
      tokens: {},
      finalizerPresent: true,
      deleting: false,
      now: sim.now + 5_000,
      observations: {
        deployments: before,
        canaries: canariesBefore,
        verdicts: [],
        sqsDepth: { known: true, value: 0 },
      },
    });
    expect(again.actions.filter((a) => a.kind === 'recordEvent')).toEqual([]);
    expect(again.status.history).toEqual(sim.status.history);
    const changes = (actions: readonly Action[]): Action[] => actions.filter((a) => firstChange([a]) === 0);
    expect(changes(again.actions)).toEqual(changes(entered));
    expect(changes(entered).map((a) => a.kind)).toEqual(['deleteCanary', 'applySettings']);
  });

  it('never captures the originals again, whatever the Deployments look like later', async () => {
    const sim = new SimulatedDeployments();
    await sim.pass();
    const originals = structuredClone(sim.status.originals);
    await sim.runUntil(() => sim.status.stage === 'canary');
    expect(sim.status.originals).toEqual(originals);
  });

  it.each([
    [
      'a missing Deployment',
      (sim: SimulatedDeployments) => sim.deployments.delete('worker'),
      'Deployment worker not found',
    ],
    [
      'a missing container',
      (sim: SimulatedDeployments) => {
        delete sim.deployment('webhook').container;
      },
      'Deployment webhook has no container webhook',
    ],
    [
      'a pipeline not on SQS',
      (sim: SimulatedDeployments) => {
        sim.deployment('worker').container = {
          env: [{ name: 'QUEUE_TYPE', value: 'redis' }],
          volumeMounts: [],
        };
      },
      'consumer worker/worker does not have the literal QUEUE_TYPE=sqs to start from',
    ],
  ])('does not start with %s, and says why', async (_what, breakIt, problem) => {
    const sim = new SimulatedDeployments();
    breakIt(sim);
    await sim.pass();
    expect(sim.status.phase).toBe('Pending');
    expect(sim.status.originals).toBeUndefined();
    expect(sim.status.message).toBe(`not started: waiting for ${problem}`);
    expect(kinds(sim.decisions[0]?.actions ?? [])).toEqual(['addFinalizer', 'writeStatus']);
  });

  it('pins a consumer’s idempotency store that came from REDIS_*, and gives it back on rollback', async () => {
    const sim = new SimulatedDeployments();
    const worker = sim.deployment('worker');
    worker.container = {
      env: [
        ...SQS_ENV,
        { name: 'REDIS_ADDRESS', value: 'idempotency:6379' },
        { name: 'REDIS_USERNAME', value: 'idem' },
      ],
      volumeMounts: [],
    };
    await sim.pass();
    const env = Object.fromEntries(worker.container.env.map((e) => [e.name, e.value]));
    expect(env).toMatchObject({
      QUEUE_TYPE: 'dual',
      REDIS_ADDRESS: 'redis.queues.svc:6379',
      // Not in the spec: an empty value, which the adapter reads as unset.
      REDIS_USERNAME: '',
      IDEMPOTENCY_REDIS_ADDRESS: 'idempotency:6379',
      IDEMPOTENCY_REDIS_USERNAME: 'idem',
    });
    sim.tokens = { abort: 'a' };
    await sim.runUntil(() => sim.status.phase === 'RolledBack');
    const byName = (a: { name: string }, b: { name: string }): number => a.name.localeCompare(b.name);
    expect([...(sim.deployment('worker').container?.env ?? [])].sort(byName)).toEqual(
      [
        ...SQS_ENV,
        { name: 'REDIS_ADDRESS', value: 'idempotency:6379' },
        { name: 'REDIS_USERNAME', value: 'idem' },
      ].sort(byName),
    );
  });

  it('pauses with spec.paused: no change, no time counted; resumes where it was', async () => {
    const sim = new SimulatedDeployments();
    await sim.pass();
    await sim.run(6);
    sim.spec = { ...sim.spec, paused: true };
    await sim.run(30);
    expect(sim.status).toMatchObject({
      phase: 'Paused',
      stage: 'dual',
      message: 'dual: paused (SpecPaused)',
    });
    expect(
      sim.decisions
        .slice(-29)
        .flatMap((d) => d.actions)
        .filter((a) => a.kind !== 'writeStatus'),
    ).toEqual([]);
    sim.spec = { ...sim.spec, paused: false };
    await sim.run(10);
    expect(sim.status.stage).toBe('dual');
    await sim.run(1);
    expect(sim.status.stage).toBe('staging');
    expect(reasons(sim)).toEqual(['DualStarted', 'Paused', 'Resumed', 'StagingStarted']);
  });

  it('pauses instead of fighting when another field manager changes a managed variable', async () => {
    const sim = new SimulatedDeployments();
    await sim.pass();
    await sim.run(2);
    const worker = sim.deployment('worker');
    // A GitOps tool puts QUEUE_TYPE back to sqs and now owns the field.
    worker.container = {
      env: (worker.container?.env ?? []).map((e) =>
        e.name === 'QUEUE_TYPE' ? { name: 'QUEUE_TYPE', value: 'sqs' } : e,
      ),
      volumeMounts: [],
    };
    worker.foreignFields = [{ variable: 'QUEUE_TYPE', manager: 'argocd-controller' }];
    await sim.run(20);
    expect(sim.status).toMatchObject({
      phase: 'Paused',
      conflict: { deployment: 'worker', variable: 'QUEUE_TYPE', manager: 'argocd-controller' },
    });
    expect(sim.status.conditions?.find((c) => c.type === 'Paused')).toMatchObject({
      status: 'True',
      reason: 'FieldConflict',
    });
    expect(sim.env('worker', 'QUEUE_TYPE')).toBe('sqs');
    expect(reasons(sim).filter((r) => r === 'FieldConflict')).toHaveLength(1);
    // Once resolved, a retry token applies the operator's settings over the other manager's.
    sim.tokens = { retry: 'resolved' };
    const retried = await sim.pass();
    expect(retried.actions.some((a) => a.kind === 'applySettings' && a.deployment === 'worker')).toBe(true);
    worker.foreignFields = [];
    await sim.run(1);
    expect(sim.status).toMatchObject({ phase: 'Progressing', stage: 'dual' });
    expect(sim.env('worker', 'QUEUE_TYPE')).toBe('dual');
  });

  it('does not call it a conflict when another manager owns a field with the operator’s value', async () => {
    const sim = new SimulatedDeployments();
    await sim.pass();
    await sim.run(1);
    sim.deployment('worker').foreignFields = [{ variable: 'QUEUE_TYPE', manager: 'kubectl' }];
    await sim.run(12);
    expect(sim.status.conflict).toBeUndefined();
    expect(sim.status.stage).toBe('staging');
  });

  it('plans without acting in a dry run, and reports the plan in status', async () => {
    const sim = new SimulatedDeployments();
    sim.spec = { ...sim.spec, dryRun: true };
    await sim.pass();
    await sim.run(3);
    expect(sim.decisions.flatMap((d) => kinds(d.actions))).toEqual(['writeStatus']);
    expect(sim.status.phase).toBeUndefined();
    expect(sim.status.originals).toBeUndefined();
    expect(sim.status.plan).toEqual([
      'set producer webhook/webhook: QUEUE_TYPE=sqs, QUEUE_FALLBACK_TYPE=redis, REDIS_ADDRESS=redis.queues.svc:6379, REDIS_STREAM_NAME=github-webhooks, REDIS_CONSUMER_GROUP=webhook-workers, SQS_QUEUE_URL=https://sqs.eu-west-1.amazonaws.com/123456789012/github-webhooks',
      'set consumer worker/worker: QUEUE_TYPE=dual, REDIS_ADDRESS=redis.queues.svc:6379, REDIS_STREAM_NAME=github-webhooks, REDIS_CONSUMER_GROUP=webhook-workers, SQS_QUEUE_URL=https://sqs.eu-west-1.amazonaws.com/123456789012/github-webhooks',
    ]);
    expect(sim.status.message).toBe(
      'dry run: 2 action(s) planned (dual: waiting for Deployment webhook to carry the sqs-with-redis-fallback settings (+1 more))',
    );
    expect(sim.env('worker', 'QUEUE_TYPE')).toBe('sqs');
  });

  it('never holds a rollback for a dry run', async () => {
    const sim = new SimulatedDeployments();
    await sim.pass();
    sim.tokens = { abort: 'a' };
    await sim.run(1);
    sim.spec = { ...sim.spec, dryRun: true };
    await sim.runUntil(() => sim.status.phase === 'RolledBack');
    expect(sim.env('webhook', 'QUEUE_FALLBACK_TYPE')).toBeUndefined();
  });

  it('releases its finalizer at once when deleted before the start, or with policy Orphan', async () => {
    for (const [deletionPolicy, paused] of [
      ['RollBack', true],
      ['Orphan', false],
    ] as const) {
      const sim = new SimulatedDeployments();
      sim.spec = { ...sim.spec, deletionPolicy, paused };
      await sim.run(3);
      sim.deleting = true;
      const decision = await sim.pass();
      expect(kinds(decision.actions)).toEqual(['writeStatus', 'recordEvent', 'removeFinalizer']);
      expect(sim.finalizerPresent).toBe(false);
    }
  });

  it('rolls back before releasing its finalizer when deleted mid-migration', async () => {
    const sim = new SimulatedDeployments();
    await sim.pass();
    await sim.runUntil(() => sim.status.stage === 'canary');
    sim.deleting = true;
    await sim.runUntil(() => !sim.finalizerPresent);
    expect(sim.status.phase).toBe('RolledBack');
    expect(sim.canaries.size).toBe(0);
    expect(sim.env('webhook', 'QUEUE_TYPE')).toBe('sqs');
    expect(sim.env('worker', 'QUEUE_TYPE')).toBe('sqs');
    expect(reasons(sim).slice(-2)).toEqual(['RolledBack', 'FinalizerReleased']);
  });
});
