import { describe, expect, it } from 'vitest';
import { fastSpec, reasons, SimulatedDeployments } from './simulated-deployments.ts';

const ERROR_RATE = {
  name: 'error-rate',
  query: 'sum(rate(webhook_events_failed_total[1m]))',
  threshold: { operator: '<', value: 0.05 },
  stages: ['canary', 'full'],
};

function withErrorRate(analysis: Record<string, unknown> = {}): SimulatedDeployments {
  return new SimulatedDeployments(
    fastSpec({
      analysis: {
        interval: '1s',
        prometheus: { url: 'http://127.0.0.1:9090' },
        metrics: [ERROR_RATE],
        ...analysis,
      },
    }),
  );
}

const recordedEvents = (sim: SimulatedDeployments): { reason: string; message: string; type: string }[] =>
  sim.decisions.flatMap((d) =>
    d.actions.flatMap((a) =>
      a.kind === 'recordEvent' ? [{ reason: a.entry.reason, message: a.entry.message, type: a.type }] : [],
    ),
  );

describe('gates on measured evidence', () => {
  it('rolls back by itself when a metric fails in canary, naming metric, value and threshold', async () => {
    const sim = withErrorRate();
    await sim.pass();
    await sim.runUntil(() => sim.status.stage === 'canary');
    sim.readings.set('error-rate', { kind: 'value', value: 0.3 });
    await sim.runUntil(() => sim.status.phase !== 'Progressing');
    expect(sim.status.phase).toBe('RollingBack');
    const reason =
      'gate failed: metric error-rate failed: value 0.3, threshold < 0.05 (1 failure(s), limit 0)';
    expect(sim.status.rollback?.reason).toBe(reason);
    expect(recordedEvents(sim)).toContainEqual({
      reason: 'RollbackStarted',
      message: reason,
      type: 'Warning',
    });
    await sim.runUntil(() => sim.status.phase === 'RolledBack');
    expect(sim.env('webhook', 'QUEUE_TYPE')).toBe('sqs');
    expect(sim.env('worker', 'QUEUE_TYPE')).toBe('sqs');
  });

  it('pauses with a condition when metrics have no data past the inconclusive limit, and resumes on retry', async () => {
    const sim = withErrorRate({ inconclusiveLimit: 2 });
    await sim.pass();
    await sim.runUntil(() => sim.status.stage === 'canary');
    sim.readings.set('error-rate', { kind: 'no-data', reason: 'the query returned no sample' });
    await sim.runUntil(() => sim.status.phase === 'Paused');
    expect(sim.status.stage).toBe('canary');
    expect(sim.status.analysis?.metrics.find((m) => m.name === 'error-rate')).toMatchObject({
      inconclusives: 3,
    });
    expect(sim.status.conditions?.find((c) => c.type === 'Paused')).toMatchObject({
      status: 'True',
      reason: 'AnalysisInconclusive',
    });
    expect(recordedEvents(sim).at(-1)).toMatchObject({ reason: 'AnalysisInconclusive', type: 'Warning' });
    await sim.run(5);
    expect(sim.status.phase).toBe('Paused');

    sim.readings.delete('error-rate');
    sim.tokens = { retry: 'resume-1' };
    await sim.runUntil(() => sim.status.stage === 'full');
    expect(reasons(sim)).toEqual(expect.arrayContaining(['Retried', 'Resumed']));
  });

  it('rolls back on inconclusive results when the policy says so', async () => {
    const sim = withErrorRate({ inconclusiveLimit: 0, inconclusivePolicy: 'rollback' });
    await sim.pass();
    await sim.runUntil(() => sim.status.stage === 'canary');
    sim.readings.set('error-rate', { kind: 'no-data', reason: 'the query returned no sample' });
    await sim.runUntil(() => sim.status.phase !== 'Progressing');
    expect(sim.status.phase).toBe('RollingBack');
    expect(sim.status.rollback?.reason).toMatch(
      /^gate failed: metric error-rate: 1 inconclusive measurement/,
    );
  });

  it('rolls back after consecutive provider errors past the limit, not before', async () => {
    const sim = withErrorRate({ consecutiveErrorLimit: 3 });
    await sim.pass();
    await sim.runUntil(() => sim.status.stage === 'canary');
    sim.readings.set('error-rate', { kind: 'error', reason: 'connect ECONNREFUSED 127.0.0.1:9' });
    await sim.run(3);
    expect(sim.status.phase).toBe('Progressing');
    await sim.run(1);
    expect(sim.status.phase).toBe('RollingBack');
    expect(sim.status.rollback?.reason).toContain('4 consecutive provider errors (limit 3)');
  });

  it('pauses instead when automatic rollback is off', async () => {
    const sim = new SimulatedDeployments(
      fastSpec({
        analysis: { interval: '1s', prometheus: { url: 'http://127.0.0.1:9090' }, metrics: [ERROR_RATE] },
        rollback: { automatic: false },
      }),
    );
    await sim.pass();
    await sim.runUntil(() => sim.status.stage === 'canary');
    sim.readings.set('error-rate', { kind: 'value', value: 0.3 });
    await sim.runUntil(() => sim.status.phase === 'Paused');
    expect(reasons(sim).at(-1)).toBe('GatesFailing');
    expect(sim.status.history?.at(-1)?.message).toContain('value 0.3, threshold < 0.05');
  });

  it('never advances a step on no data: the step waits for its first measurement', async () => {
    const sim = withErrorRate({ inconclusiveLimit: 100 });
    await sim.pass();
    await sim.runUntil(() => sim.status.stage === 'canary');
    sim.readings.set('error-rate', { kind: 'no-data', reason: 'the query returned no sample' });
    await sim.run(30);
    expect(sim.status.stage).toBe('canary');
    expect(sim.status.message).toContain('metric error-rate: no data');
  });

  it('lets an idle dual stage pass: the traffic metrics do not apply there', async () => {
    const sim = new SimulatedDeployments();
    for (const name of ['redis-backlog', 'redis-oldest-pending-age', 'redis-dead-letter-growth']) {
      sim.readings.set(name, { kind: 'no-data', reason: 'nothing published' });
    }
    await sim.pass();
    await sim.runUntil(() => sim.status.stage === 'staging', 20);
    // Reached staging: its own gates (probes) join the ones that applied in dual.
    expect(sim.status.gates?.filter((g) => g.gate === 'analysis').map((g) => g.metric)).toEqual([
      'redis-missing-consumers',
      'probe-failures',
      'probe-round-trip-p50',
      'probe-round-trip-p99',
    ]);
  });

  it('fills Backlog and Error Rate from the latest measurements, and keeps them in status.gates', async () => {
    const sim = withErrorRate();
    sim.readings.set('error-rate', { kind: 'value', value: 0.01 });
    sim.readings.set('redis-backlog', { kind: 'value', value: 42 });
    // Outside a drain the controller samples no backlog of its own: the column shows the measurement.
    sim.redisBacklog = undefined;
    await sim.pass();
    await sim.runUntil(() => sim.status.stage === 'canary' && sim.status.analysis?.stage === 'canary');
    expect(sim.status).toMatchObject({ backlog: 42, errorRate: '0.01' });
    expect(sim.status.gates).toContainEqual({
      gate: 'analysis',
      verdict: 'success',
      metric: 'error-rate',
      value: '0.01',
      threshold: '< 0.05',
      message: 'metric error-rate: value 0.01 meets threshold < 0.05',
    });
  });
});
