import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import type { KubeEndpoint } from '../state.ts';
import { writeKubeconfig } from './kubeconfig.ts';

/** A client configuration with the environment's admin rights. */
export function adminKubeConfig(kube: KubeEndpoint): KubeConfig {
  const config = new KubeConfig();
  config.loadFromFile(kube.kubeconfig);
  return config;
}

/**
 * Mints a token for a ServiceAccount through the TokenRequest API and writes a kubeconfig that
 * uses it, so a process (or a test) runs with exactly the rights RBAC grants that account.
 */
export async function serviceAccountKubeconfig(
  kube: KubeEndpoint,
  account: { namespace: string; name: string },
  file: string,
  expirationSeconds = 3_600,
): Promise<KubeConfig> {
  const core = adminKubeConfig(kube).makeApiClient(CoreV1Api);
  const request = await core.createNamespacedServiceAccountToken({
    namespace: account.namespace,
    name: account.name,
    body: { spec: { audiences: [], expirationSeconds } },
  });
  const token = request.status?.token;
  if (!token) throw new Error(`TokenRequest for ${account.namespace}/${account.name} returned no token`);
  writeKubeconfig(
    file,
    kube.server,
    kube.caFile,
    `system:serviceaccount:${account.namespace}:${account.name}`,
    {
      kind: 'token',
      token,
    },
  );
  const config = new KubeConfig();
  config.loadFromFile(file);
  return config;
}
