import fs from 'node:fs';

export type KubeCredentials =
  { kind: 'certificate'; certFile: string; keyFile: string } | { kind: 'token'; token: string };

/**
 * Writes a kubeconfig for one user against the environment's API server. JSON is valid YAML,
 * so kubectl and @kubernetes/client-node both read it.
 */
export function writeKubeconfig(
  file: string,
  server: string,
  caFile: string,
  user: string,
  credentials: KubeCredentials,
): void {
  const userEntry =
    credentials.kind === 'certificate'
      ? { 'client-certificate': credentials.certFile, 'client-key': credentials.keyFile }
      : { token: credentials.token };
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'queueshift-local', cluster: { server, 'certificate-authority': caFile } }],
    users: [{ name: user, user: userEntry }],
    contexts: [{ name: user, context: { cluster: 'queueshift-local', user, namespace: 'default' } }],
    'current-context': user,
  };
  fs.writeFileSync(file, JSON.stringify(config, null, 2) + '\n', { mode: 0o600 });
}
