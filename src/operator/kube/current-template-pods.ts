import type { V1Deployment, V1ObjectMeta, V1Pod, V1ReplicaSet } from '@kubernetes/client-node';

/** On a Deployment and its ReplicaSets: the rollout sequence number the controller assigned. */
const REVISION_ANNOTATION = 'deployment.kubernetes.io/revision';
/** On a ReplicaSet and its pods: the hash of the pod template they were made from. */
const TEMPLATE_HASH_LABEL = 'pod-template-hash';

function revisionOf(metadata: V1ObjectMeta | undefined): number | undefined {
  const value = metadata?.annotations?.[REVISION_ANNOTATION];
  if (value === undefined || !/^\d+$/.test(value)) return undefined;
  return Number(value);
}

/**
 * The ReplicaSet of the Deployment's current template: the one it owns whose revision the
 * Deployment carries. Undefined while that cannot be told from what the controller wrote:
 * - the controller has not seen the latest generation: the revision is the previous template's;
 * - no owned ReplicaSet has that revision yet (the controller has not created it);
 * - an owned ReplicaSet has a newer revision: going back to an earlier template, the controller
 *   renumbers that template's ReplicaSet first and the Deployment's annotation a sync later, so
 *   until then the annotation still names the template being replaced.
 */
function currentReplicaSet(
  deployment: V1Deployment,
  replicaSets: readonly V1ReplicaSet[],
): V1ReplicaSet | undefined {
  const generation = deployment.metadata?.generation ?? 0;
  if ((deployment.status?.observedGeneration ?? 0) < generation) return undefined;
  const revision = revisionOf(deployment.metadata);
  if (revision === undefined) return undefined;
  const uid = deployment.metadata?.uid;
  const owned = replicaSets.filter((set) => set.metadata?.ownerReferences?.some((o) => o.uid === uid));
  if (owned.some((set) => (revisionOf(set.metadata) ?? 0) > revision)) return undefined;
  return owned.find((set) => revisionOf(set.metadata) === revision);
}

/**
 * The pods of the Deployment's current template, the only ones that say anything about the rollout
 * asked for (pods of older templates are being replaced, whatever their state). None while the
 * current ReplicaSet cannot be told, which lets no crash loop pass a gate: the controller is then
 * still switching templates, so the rollout reads as in progress (inconclusive, never a pass) until
 * the next observation looks again; and a rollout that reads complete has every pod available,
 * which a pod in CrashLoopBackOff never is.
 */
export function currentTemplatePods(
  deployment: V1Deployment,
  replicaSets: readonly V1ReplicaSet[],
  pods: readonly V1Pod[],
): V1Pod[] {
  const hash = currentReplicaSet(deployment, replicaSets)?.metadata?.labels?.[TEMPLATE_HASH_LABEL];
  if (hash === undefined) return [];
  return pods.filter((pod) => pod.metadata?.labels?.[TEMPLATE_HASH_LABEL] === hash);
}
