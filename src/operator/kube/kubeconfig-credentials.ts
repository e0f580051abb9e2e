import path from 'node:path';
import { load } from 'js-yaml';
import { z } from 'zod';
import type { Clock } from '../../adapter/index.ts';
import {
  KubeCredentialsError,
  readCredentialFile,
  TokenFile,
  type KubeCredentials,
  type TlsMaterial,
} from './kube-credentials.ts';

/** Fields of a cluster entry that change nothing about how the operator connects. */
const INERT_FIELDS = ['extensions', 'disable-compression'];

const clusterFields = z.object({
  server: z.url(),
  'certificate-authority': z.string().optional(),
  'certificate-authority-data': z.string().optional(),
  'insecure-skip-tls-verify': z.boolean().optional(),
});

const userFields = z.object({
  'client-certificate': z.string().optional(),
  'client-certificate-data': z.string().optional(),
  'client-key': z.string().optional(),
  'client-key-data': z.string().optional(),
  token: z.string().optional(),
  tokenFile: z.string().optional(),
});

const entry = z.record(z.string(), z.unknown());

const kubeconfigShape = z.object({
  'current-context': z.string().optional(),
  clusters: z.array(z.object({ name: z.string(), cluster: entry })).nullish(),
  users: z.array(z.object({ name: z.string(), user: entry.nullish() })).nullish(),
  contexts: z
    .array(
      z.object({
        name: z.string(),
        context: z.object({ cluster: z.string(), user: z.string().optional() }),
      }),
    )
    .nullish(),
});

export interface KubeconfigOptions {
  /** The kubeconfig's current context unless given. */
  context?: string | undefined;
  clock: Clock;
}

function parseFile(file: string): z.output<typeof kubeconfigShape> {
  let document: unknown;
  try {
    document = load(readCredentialFile(file, 'kubeconfig').toString('utf8'));
  } catch (error) {
    if (error instanceof KubeCredentialsError) throw error;
    throw new KubeCredentialsError(
      'KUBE_CREDENTIALS_UNREADABLE',
      `kubeconfig ${file} is not YAML: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
  const parsed = kubeconfigShape.safeParse(document ?? {});
  if (!parsed.success) throw invalid(file, parsed.error);
  return parsed.data;
}

function invalid(where: string, error: z.ZodError): KubeCredentialsError {
  const issues = error.issues.map((issue) => `${issue.path.join('.') || '(top)'}: ${issue.message}`);
  return new KubeCredentialsError('KUBE_CREDENTIALS_INVALID', `${where}: ${issues.join('; ')}`);
}

/** Entry fields outside the ones read here: refused, so that nothing is silently ignored. */
function refuseOthers(entry: Record<string, unknown>, known: z.ZodObject, what: string): void {
  const others = Object.keys(entry).filter((key) => !(key in known.shape) && !INERT_FIELDS.includes(key));
  if (others.length > 0) {
    throw new KubeCredentialsError(
      'KUBE_CREDENTIALS_UNSUPPORTED',
      `${what} uses ${others.join(', ')}, which the operator does not support; give it a certificate, token or tokenFile`,
    );
  }
}

function find<T extends { name: string }>(
  list: readonly T[] | null | undefined,
  name: string,
): T | undefined {
  return list?.find((entry) => entry.name === name);
}

/**
 * Inline data (base64) if present, else the file, a relative path being relative to the kubeconfig's
 * folder, as kubectl resolves it.
 */
function material(data: string | undefined, file: string | undefined, folder: string, what: string) {
  if (data !== undefined) return Buffer.from(data, 'base64');
  return file === undefined ? undefined : readCredentialFile(path.resolve(folder, file), what);
}

/** The credentials of one context of a kubeconfig file, as kubectl would use them. */
export function kubeconfigCredentials(file: string, options: KubeconfigOptions): KubeCredentials {
  const config = parseFile(file);
  const folder = path.dirname(path.resolve(file));
  const contextName = options.context ?? config['current-context'];
  if (contextName === undefined || contextName === '') {
    throw new KubeCredentialsError(
      'KUBE_CREDENTIALS_NO_CONTEXT',
      `kubeconfig ${file} has no current-context; name one`,
    );
  }
  const context = find(config.contexts, contextName)?.context;
  if (context === undefined) {
    throw new KubeCredentialsError(
      'KUBE_CREDENTIALS_NO_CONTEXT',
      `context "${contextName}" is not in kubeconfig ${file}`,
    );
  }
  const clusterEntry = find(config.clusters, context.cluster)?.cluster;
  if (clusterEntry === undefined) {
    throw new KubeCredentialsError(
      'KUBE_CREDENTIALS_INCOMPLETE',
      `context "${contextName}" names cluster "${context.cluster}", which is not in kubeconfig ${file}`,
    );
  }
  // No user: the server sees an anonymous client (or one known by its certificate alone).
  const userEntry = context.user === undefined ? { user: {} } : find(config.users, context.user);
  if (userEntry === undefined) {
    throw new KubeCredentialsError(
      'KUBE_CREDENTIALS_INCOMPLETE',
      `context "${contextName}" names user "${String(context.user)}", which is not in kubeconfig ${file}`,
    );
  }
  const userValues = userEntry.user ?? {};
  const clusterWhat = `cluster "${context.cluster}" of kubeconfig ${file}`;
  const userWhat = `user "${String(context.user)}" of kubeconfig ${file}`;
  refuseOthers(clusterEntry, clusterFields, clusterWhat);
  refuseOthers(userValues, userFields, userWhat);
  const cluster = clusterFields.safeParse(clusterEntry);
  if (!cluster.success) throw invalid(clusterWhat, cluster.error);
  const user = userFields.safeParse(userValues);
  if (!user.success) throw invalid(userWhat, user.error);

  const c = cluster.data;
  const u = user.data;
  const ca = material(
    c['certificate-authority-data'],
    c['certificate-authority'],
    folder,
    'certificate-authority',
  );
  const cert = material(u['client-certificate-data'], u['client-certificate'], folder, 'client-certificate');
  const key = material(u['client-key-data'], u['client-key'], folder, 'client-key');
  const tls: TlsMaterial = {
    ...(ca !== undefined && { ca }),
    ...(cert !== undefined && { cert }),
    ...(key !== undefined && { key }),
    ...(c['insecure-skip-tls-verify'] === true && { rejectUnauthorized: false }),
  };
  // As client-go: a tokenFile, re-read as it rotates, wins over an inline token.
  const tokenFile =
    u.tokenFile === undefined ? undefined : new TokenFile(path.resolve(folder, u.tokenFile), options.clock);
  const token = u.token === undefined ? undefined : `Bearer ${u.token}`;
  return {
    server: new URL(c.server),
    tls: () => Promise.resolve(tls),
    authorization: () => (tokenFile === undefined ? Promise.resolve(token) : tokenFile.authorization()),
  };
}
