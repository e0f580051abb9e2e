import { describe, expect, it } from 'vitest';
import { fastSpec, reasons, SimulatedDeployments } from './simulated-deployments.ts';

interface Snapshot {
  at: string;
  producer: string;
  consumer: string;
  canary: string;
}

/** QUEUE_TYPE[/QUEUE_FALLBACK_TYPE] of a Deployment, as the adapter will read it. */
function queueOf(sim: SimulatedDeployments, name: string): string {
  if (name.endsWith('-canary') && !sim.canaries.has(name.replace(/-canary$/, ''))) return '-';
  const type = sim.env(name, 'QUEUE_TYPE') ?? '';
  const fallback = sim.env(name, 'QUEUE_FALLBACK_TYPE') ?? '';
  const replicas = name.endsWith('-canary') ? ` x${sim.deployment(name).replicas}` : '';
  return (fallback === '' ? type : `${type}/${fallback}`) + replicas;
}

describe('a migration on the stage machine, driven through every stage', () => {
  it('gives each Deployment the right queue settings at each stage, in order, each stage once', async () => {
    const sim = new SimulatedDeployments();
    const seen: Snapshot[] = [];
    const where = (): string =>
      sim.status.phase === 'Succeeded' ? 'Succeeded' : `${sim.status.stage ?? '-'}/${sim.status.step ?? 0}`;
    await sim.pass();
    for (let second = 0; second < 600 && sim.status.phase !== 'Succeeded'; second += 1) {
      // The state of every Deployment just before the stage is left: its settings have landed.
      const snapshot = {
        at: where(),
        producer: queueOf(sim, 'webhook'),
        consumer: queueOf(sim, 'worker'),
        canary: queueOf(sim, 'webhook-canary'),
      };
      await sim.run(1);
      if (where() !== snapshot.at) seen.push(snapshot);
    }
    seen.push({
      at: where(),
      producer: queueOf(sim, 'webhook'),
      consumer: queueOf(sim, 'worker'),
      canary: '-',
    });

    expect(seen).toEqual([
      { at: 'dual/0', producer: 'sqs/redis', consumer: 'dual', canary: '-' },
      { at: 'staging/0', producer: 'sqs/redis', consumer: 'dual', canary: '-' },
      // 2 producer pods: 25% → 1 canary pod (a third of the pods), 50% → 2.
      { at: 'canary/0', producer: 'sqs/redis', consumer: 'dual', canary: 'redis/sqs x1' },
      { at: 'canary/1', producer: 'sqs/redis', consumer: 'dual', canary: 'redis/sqs x2' },
      { at: 'full/0', producer: 'redis/sqs', consumer: 'dual', canary: '-' },
      { at: 'full/1', producer: 'redis/sqs', consumer: 'redis', canary: '-' },
      { at: 'cleanup/0', producer: 'redis/sqs', consumer: 'redis', canary: '-' },
      { at: 'cleanup/1', producer: 'redis', consumer: 'redis', canary: '-' },
      { at: 'Succeeded', producer: 'redis', consumer: 'redis', canary: '-' },
    ]);
    expect(reasons(sim)).toEqual([
      'DualStarted',
      'StagingStarted',
      'CanaryStepStarted',
      'CanaryStepStarted',
      'FullStarted',
      'ConsumersSwitched',
      'CleanupStarted',
      'FallbackRemoved',
      'Succeeded',
    ]);
  });

  it('injects the Redis settings with the secret by reference and the TLS Secret as a volume', async () => {
    const sim = new SimulatedDeployments();
    sim.spec = {
      ...sim.spec,
      redis: {
        ...sim.spec.redis,
        username: 'queueshift',
        passwordSecretRef: { name: 'redis-auth', key: 'password' },
        tls: { secretName: 'redis-tls', mountPath: '/etc/redis-tls', caKey: 'ca.crt' },
      },
    };
    await sim.pass();
    const worker = sim.deployment('worker');
    expect(worker.container?.env).toEqual(
      expect.arrayContaining([
        { name: 'QUEUE_TYPE', value: 'dual' },
        { name: 'REDIS_ADDRESS', value: 'redis.queues.svc:6379' },
        { name: 'REDIS_USERNAME', value: 'queueshift' },
        { name: 'REDIS_PASSWORD', valueFrom: { secretKeyRef: { name: 'redis-auth', key: 'password' } } },
        { name: 'REDIS_TLS_ENABLED', value: 'true' },
        { name: 'REDIS_TLS_CA_FILE', value: '/etc/redis-tls/ca.crt' },
        { name: 'REDIS_STREAM_NAME', value: 'github-webhooks' },
        { name: 'REDIS_CONSUMER_GROUP', value: 'webhook-workers' },
      ]),
    );
    expect(worker.volumes).toEqual(['queueshift-redis-tls']);
    expect(worker.container?.volumeMounts).toEqual([
      { name: 'queueshift-redis-tls', mountPath: '/etc/redis-tls' },
    ]);
    expect(JSON.stringify(sim.status)).not.toContain('password"');
  });

  it('holds each stage for its duration with every gate green, and asks to be woken when it ends', async () => {
    // No metric: the wake-up asked for is the stage's end, not the next analysis round.
    const sim = new SimulatedDeployments(fastSpec({ analysis: { defaultMetrics: false } }));
    await sim.pass();
    await sim.run(1);
    const entered = sim.status.stageStartedAt;
    expect(sim.status.greenSince).toBeDefined();
    const green = Date.parse(sim.status.greenSince ?? '');
    expect(sim.decisions.at(-1)?.requeueAfterMs).toBe(10_000);
    await sim.run(9);
    expect(sim.status.stage).toBe('dual');
    expect(sim.decisions.at(-1)?.requeueAfterMs).toBe(green + 10_000 - sim.now);
    await sim.run(1);
    expect(sim.status.stage).toBe('staging');
    expect(sim.now - green).toBe(10_000);
    expect(sim.status.stageStartedAt).not.toBe(entered);
  });

  it('restarts a stage’s clock when a gate stops being green', async () => {
    const sim = new SimulatedDeployments();
    await sim.pass();
    await sim.run(5);
    // A consumer pod restarts: the rollout is in progress again, which is not green.
    sim.deployment('worker').availableReplicas = 1;
    sim.autoRollout = false;
    await sim.run(1);
    expect(sim.status.greenSince).toBeUndefined();
    expect(sim.status.message).toMatch(/^dual: waiting for Deployment worker: rollout in progress/);
    sim.autoRollout = true;
    sim.finishRollouts();
    await sim.run(10);
    expect(sim.status.stage).toBe('dual');
    await sim.run(1);
    expect(sim.status.stage).toBe('staging');
  });

  it('moves consumers off SQS only after depth samples read 0 across the drain window', async () => {
    const sim = new SimulatedDeployments();
    sim.sqsDepth = { known: true, value: 3 };
    await sim.pass();
    await sim.runUntil(() => sim.status.stage === 'full');
    await sim.run(120);
    expect(sim.status).toMatchObject({ stage: 'full', step: 0 });
    expect(sim.status.message).toContain('SQS to read empty for 60s (depth 3)');
    sim.sqsDepth = { known: false, reason: 'queue attributes unavailable' };
    await sim.run(5);
    expect(sim.status.sqsEmptySince).toBeUndefined();
    sim.sqsDepth = { known: true, value: 0 };
    await sim.run(1);
    const emptySince = Date.parse(sim.status.sqsEmptySince ?? '');
    await sim.run(59);
    expect(sim.status.step).toBe(0);
    sim.sqsDepth = { known: true, value: 1 };
    await sim.run(1);
    expect(sim.status.sqsEmptySince).toBeUndefined();
    sim.sqsDepth = { known: true, value: 0 };
    await sim.runUntil(() => sim.status.step === 1);
    expect(sim.now - emptySince).toBeGreaterThan(60_000);
    expect(sim.env('worker', 'QUEUE_TYPE')).toBe('redis');
  });

  it('waits for a rehearsal migration to succeed before staging passes', async () => {
    const sim = new SimulatedDeployments();
    sim.spec = {
      ...sim.spec,
      stages: { ...sim.spec.stages, staging: { ...sim.spec.stages.staging, rehearsal: 'staging-run' } },
    };
    await sim.pass();
    await sim.runUntil(() => sim.status.stage === 'staging');
    await sim.run(60);
    expect(sim.status.stage).toBe('staging');
    expect(sim.status.message).toContain(
      'rehearsal QueueMigration staging-run to succeed (it is not observed yet)',
    );
  });
});
