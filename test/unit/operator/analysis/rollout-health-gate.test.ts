import { describe, expect, it } from 'vitest';
import { RolloutHealthGate } from '../../../../src/operator/analysis/rollout-health-gate.ts';
import { worstVerdict, type Verdict, type VerdictKind } from '../../../../src/operator/analysis/verdict.ts';
import type { DeploymentObservation } from '../../../../src/operator/stages/observations.ts';
import { observed } from '../stages/simulated-deployments.ts';

const gate = new RolloutHealthGate();
const judge = async (change: Partial<DeploymentObservation>): Promise<Verdict | undefined> =>
  (
    await gate.evaluate({
      stage: 'dual',
      step: 0,
      deployments: [{ ...observed('worker', [], 3), ...change }],
      now: 0,
    })
  )[0];

describe('the rollout-health gate', () => {
  it.each<[string, Partial<DeploymentObservation>, VerdictKind, string]>([
    ['a finished rollout', {}, 'success', 'rollout complete (3/3 updated, 3 available, 3 total)'],
    ['a generation the controller has not seen', { generation: 2 }, 'inconclusive', 'rollout in progress'],
    ['pods not yet updated', { updatedReplicas: 1 }, 'inconclusive', 'rollout in progress (1/3 updated'],
    ['an old pod still running', { totalReplicas: 4 }, 'inconclusive', '4 total'],
    ['an updated pod not available', { availableReplicas: 2 }, 'inconclusive', '2 available'],
    [
      'an exceeded progress deadline',
      { progressDeadlineExceeded: true, updatedReplicas: 1 },
      'failure',
      'exceeded its progress deadline',
    ],
    [
      'a crash-looping pod, even when counted available',
      { crashLoopingPods: ['worker-1'] },
      'failure',
      'CrashLoopBackOff: worker-1',
    ],
    [
      'a Deployment scaled to zero',
      { replicas: 0, updatedReplicas: 0, availableReplicas: 0, totalReplicas: 0 },
      'success',
      'rollout complete',
    ],
  ])('judges %s: %s', async (_what, change, verdict, message) => {
    const result = await judge(change);
    expect(result).toMatchObject({ gate: 'rollout-health', subject: 'worker', verdict, promotable: false });
    expect(result?.message).toContain(message);
  });
});

describe('the worst of several verdicts', () => {
  const v = (verdict: VerdictKind): Verdict => ({
    gate: 'g',
    verdict,
    metric: 'm',
    message: '',
    promotable: true,
  });
  it.each<[VerdictKind[], VerdictKind]>([
    [['success', 'success'], 'success'],
    [['success', 'inconclusive'], 'inconclusive'],
    [['inconclusive', 'error'], 'error'],
    [['error', 'failure', 'success'], 'failure'],
    [[], 'inconclusive'],
  ])('of %j is %s (no verdict at all is no evidence, not success)', (kinds, worst) => {
    expect(worstVerdict(kinds.map(v))).toBe(worst);
  });
});
