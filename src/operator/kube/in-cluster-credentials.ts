import path from 'node:path';
import type { Clock } from '../../adapter/index.ts';
import {
  KubeCredentialsError,
  readCredentialFile,
  TokenFile,
  type KubeCredentials,
} from './kube-credentials.ts';

/** Where the kubelet mounts a pod's ServiceAccount token, CA and namespace. */
export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

export interface InClusterLocation {
  /** KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT of the pod. */
  host: string | undefined;
  port: string | undefined;
  /** SERVICE_ACCOUNT_DIR unless given. */
  accountDir?: string;
}

/** The pod's own ServiceAccount, as client-go's rest.InClusterConfig finds it. */
export function inClusterCredentials(location: InClusterLocation, clock: Clock): KubeCredentials {
  const { host, port } = location;
  if (host === undefined || host === '' || port === undefined || port === '') {
    throw new KubeCredentialsError(
      'KUBE_CREDENTIALS_NOT_IN_CLUSTER',
      'KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must both be set; outside a pod, set KUBECONFIG',
    );
  }
  const dir = location.accountDir ?? SERVICE_ACCOUNT_DIR;
  const token = new TokenFile(path.join(dir, 'token'), clock);
  const ca = readCredentialFile(path.join(dir, 'ca.crt'), 'cluster CA');
  return {
    server: new URL(`https://${host.includes(':') ? `[${host}]` : host}:${port}`),
    tls: () => Promise.resolve({ ca }),
    authorization: () => token.authorization(),
  };
}
