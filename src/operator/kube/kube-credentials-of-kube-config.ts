import type http from 'node:http';
import type https from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';
import { KubeCredentialsError, type KubeCredentials, type TlsMaterial } from './kube-credentials.ts';

const asBuffer = (value: unknown): Buffer | undefined =>
  typeof value === 'string' || Buffer.isBuffer(value) ? Buffer.from(value) : undefined;

/**
 * The credentials of a client-node KubeConfig's current context, for callers that already hold one
 * (the kubectl plugin merges several kubeconfigs, and runs once per command, so client-node's
 * weight does not matter there). Exec and auth-provider users work as client-node implements them.
 */
export function kubeConfigCredentials(config: KubeConfig): KubeCredentials {
  const cluster = config.getCurrentCluster();
  if (cluster === null) {
    throw new KubeCredentialsError('KUBE_CREDENTIALS_NO_CONTEXT', 'the kubeconfig has no current cluster');
  }
  const applied = async (): Promise<https.RequestOptions> => {
    const options: https.RequestOptions = {};
    await config.applyToHTTPSOptions(options);
    return options;
  };
  return {
    server: new URL(cluster.server),
    tls: async (): Promise<TlsMaterial> => {
      const options = await applied();
      const ca = asBuffer(options.ca);
      const cert = asBuffer(options.cert);
      const key = asBuffer(options.key);
      return {
        ...(ca !== undefined && { ca }),
        ...(cert !== undefined && { cert }),
        ...(key !== undefined && { key }),
        ...(options.rejectUnauthorized !== undefined && { rejectUnauthorized: options.rejectUnauthorized }),
      };
    },
    authorization: async () => {
      const { headers } = await applied();
      const header =
        headers === undefined || Array.isArray(headers)
          ? undefined
          : (headers as http.OutgoingHttpHeaders)['Authorization'];
      return typeof header === 'string' ? header : undefined;
    },
  };
}
