import type { V1Pod } from '@kubernetes/client-node';

/**
 * A pod that became Ready this recently may not have made its first read yet: its consumer joins
 * the group with that read, which starts with the process, a moment before the first probe passes.
 */
export const FIRST_READ_GRACE_MS = 3_000;

const READS_REDIS = new Set(['dual', 'redis']);

/**
 * The consumer pods that must show up as active consumers of the group: Ready (and not on their
 * way out) for at least the grace, and configured to read Redis. Pods of the old template, still
 * on SQS while a rollout replaces them, are not expected in the group.
 */
export function expectedGroupConsumers(pods: readonly V1Pod[], container: string, now: number): string[] {
  return pods.flatMap((pod) => {
    if (pod.metadata?.deletionTimestamp !== undefined) return [];
    const ready = pod.status?.conditions?.find((c) => c.type === 'Ready' && c.status === 'True');
    const since =
      ready?.lastTransitionTime === undefined ? NaN : new Date(ready.lastTransitionTime).getTime();
    if (!(now - since >= FIRST_READ_GRACE_MS)) return [];
    const env = pod.spec?.containers.find((c) => c.name === container)?.env ?? [];
    const queueType = env.find((e) => e.name === 'QUEUE_TYPE')?.value ?? '';
    return READS_REDIS.has(queueType) ? [pod.metadata?.name ?? ''] : [];
  });
}
