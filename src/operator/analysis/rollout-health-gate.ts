import type { DeploymentObservation } from '../stages/observations.ts';
import type { Gate, GateContext } from './gate.ts';
import type { Verdict } from './verdict.ts';

export const ROLLOUT_HEALTH_GATE = 'rollout-health';

/**
 * A Deployment's rollout as `kubectl rollout status` judges it: the controller saw the latest
 * generation, every replica runs the latest template and is available, and no old pod is left.
 */
export function rolloutComplete(deployment: DeploymentObservation): boolean {
  return (
    deployment.observedGeneration >= deployment.generation &&
    deployment.updatedReplicas === deployment.replicas &&
    deployment.totalReplicas === deployment.replicas &&
    deployment.availableReplicas === deployment.replicas
  );
}

function verdictFor(deployment: DeploymentObservation): Verdict {
  const base = {
    gate: ROLLOUT_HEALTH_GATE,
    subject: deployment.name,
    // A rollout in progress is not a wait that promote may skip: old-template pods may still publish.
    promotable: false,
  };
  const progress = `${deployment.updatedReplicas}/${deployment.replicas} updated, ${deployment.availableReplicas} available, ${deployment.totalReplicas} total`;
  // The current template's pods only: an older template's crash loops are being replaced and say
  // nothing about the rollout the operator asked for.
  if (deployment.crashLoopingPods.length > 0) {
    return {
      ...base,
      verdict: 'failure',
      metric: 'crash-looping-pods',
      value: String(deployment.crashLoopingPods.length),
      threshold: '0',
      message: `Deployment ${deployment.name}: pods in CrashLoopBackOff: ${deployment.crashLoopingPods.join(', ')}`,
    };
  }
  if (deployment.progressDeadlineExceeded) {
    return {
      ...base,
      verdict: 'failure',
      metric: 'progress-deadline',
      value: 'exceeded',
      threshold: 'not exceeded',
      message: `Deployment ${deployment.name}: rollout exceeded its progress deadline (${progress})`,
    };
  }
  if (rolloutComplete(deployment)) {
    return {
      ...base,
      verdict: 'success',
      metric: 'rollout',
      value: 'complete',
      message: `Deployment ${deployment.name}: rollout complete (${progress})`,
    };
  }
  return {
    ...base,
    verdict: 'inconclusive',
    metric: 'rollout',
    value: 'in progress',
    threshold: 'complete',
    message: `Deployment ${deployment.name}: rollout in progress (${progress})`,
  };
}

/** Rollout health of every Deployment the migration touches; one verdict per Deployment. */
export class RolloutHealthGate implements Gate {
  readonly name = ROLLOUT_HEALTH_GATE;

  evaluate(context: GateContext): Promise<Verdict[]> {
    return Promise.resolve(context.deployments.map(verdictFor));
  }
}
