import type { V1Deployment } from '@kubernetes/client-node';
import { readSecretKey } from '../kube/redis-secrets.ts';
import { observeDeployment } from '../kube/deployment-observation.ts';
import type { KubeApi } from '../kube/kube-api.ts';
import { FIELD_MANAGER, paths } from '../kube/resource-paths.ts';
import type { EnvEntry } from '../stages/observations.ts';

/** What probes need from the API server besides the migration itself. */
export interface ProbeKubeReads {
  /** A key of a Secret in the namespace: the webhook secret, a store password. */
  readSecret(namespace: string, ref: { name: string; key: string }): Promise<string>;
  /** The env of a consumer's container as it is now (the operator records only what it manages). */
  consumerEnv(namespace: string, consumer: { name: string; container: string }): Promise<readonly EnvEntry[]>;
}

/** Both reads through the operator's own client, with its ServiceAccount's rights. */
export function probeKubeReads(api: KubeApi): ProbeKubeReads {
  return {
    async readSecret(namespace, ref) {
      return (await readSecretKey(api, namespace, ref, 'a Secret the probes need')).value;
    },
    async consumerEnv(namespace, consumer) {
      const deployment = await api.request<V1Deployment>('GET', paths.deployment(namespace, consumer.name));
      const observed = observeDeployment(deployment, {
        container: consumer.container,
        pods: [],
        fieldManager: FIELD_MANAGER,
        managedVariables: [],
      });
      return observed.container?.env ?? [];
    },
  };
}
