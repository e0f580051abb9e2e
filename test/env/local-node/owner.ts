import type { V1Pod } from '@kubernetes/client-node';

/**
 * The Deployment a pod belongs to, from its controlling ReplicaSet's name minus the
 * pod-template-hash suffix (`web-6d4cf56db6` → `web`). Undefined for pods no ReplicaSet owns.
 */
export function deploymentName(pod: V1Pod): string | undefined {
  const owners = pod.metadata?.ownerReferences ?? [];
  const owner =
    owners.find((o) => o.kind === 'ReplicaSet' && o.controller === true) ??
    owners.find((o) => o.kind === 'ReplicaSet');
  if (!owner) return undefined;
  const hash = pod.metadata?.labels?.['pod-template-hash'];
  if (hash !== undefined && owner.name.endsWith(`-${hash}`)) return owner.name.slice(0, -(hash.length + 1));
  const dash = owner.name.lastIndexOf('-');
  return dash > 0 ? owner.name.slice(0, dash) : owner.name;
}
