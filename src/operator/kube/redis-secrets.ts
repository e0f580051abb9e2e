import type { Known } from '../../adapter/index.ts';
import type { RedisSettings } from '../api/redis-settings-schema.ts';
import type { KubeApi } from './kube-api.ts';

/**
 * The parts of a migration's Redis connection that live in Secrets: never logged, never written
 * to status or Events, held in memory only.
 */
export interface RedisSecretMaterial {
  password?: string;
  tls?: { caPem?: string; certPem?: string; keyPem?: string };
  /**
   * The Secrets' resourceVersions: it changes whenever their data does, so a connection built from
   * older material is replaced without comparing (or keeping a second copy of) the secrets.
   */
  version: string;
}

interface SecretObject {
  metadata: { resourceVersion?: string };
  data?: Record<string, string>;
}

/** `secrets/<name>` as read once for this resolution: several references share one GET. */
type SecretCache = Map<string, Promise<SecretObject>>;

const secretPath = (namespace: string, name: string): string =>
  `/api/v1/namespaces/${namespace}/secrets/${name}`;

/** Why a Secret a migration references is not usable; messages name Secrets, never values. */
export const SECRET_READ_ERRORS = {
  SECRET_UNREADABLE: 'A referenced Secret could not be read (missing, or RBAC refused `get`).',
  SECRET_KEY_MISSING: 'A referenced Secret lacks the key the spec names.',
  SECRETS_UNREAD: 'Redis was asked for before its Secrets were read, or while they cannot be.',
} as const;

export type SecretReadErrorCode = keyof typeof SECRET_READ_ERRORS;

export class SecretReadError extends Error {
  readonly code: SecretReadErrorCode;

  constructor(code: SecretReadErrorCode, message: string, options?: { cause?: unknown }) {
    super(`${code}: ${message}`, options);
    this.name = 'SecretReadError';
    this.code = code;
  }
}

/**
 * One key of a Secret in the migration's namespace, decoded, with the Secret's resourceVersion;
 * `field` is the spec field that names it, for the error. References that share a `cache` share
 * one GET per Secret.
 */
export async function readSecretKey(
  api: KubeApi,
  namespace: string,
  ref: { name: string; key: string },
  field: string,
  cache: SecretCache = new Map(),
): Promise<{ value: string; version: string }> {
  let read = cache.get(ref.name);
  if (read === undefined) {
    read = api.request<SecretObject>('GET', secretPath(namespace, ref.name));
    cache.set(ref.name, read);
  }
  const secret = await read.catch((error: unknown) => {
    // A KubeApiError names method, path and status, never the Secret's data.
    const why = error instanceof Error ? error.message : String(error);
    throw new SecretReadError('SECRET_UNREADABLE', `${field}: ${why}`, { cause: error });
  });
  const encoded = secret.data?.[ref.key];
  if (encoded === undefined) {
    throw new SecretReadError(
      'SECRET_KEY_MISSING',
      `${field}: Secret ${namespace}/${ref.name} has no key "${ref.key}"`,
    );
  }
  return {
    value: Buffer.from(encoded, 'base64').toString('utf8'),
    version: `${ref.name}@${secret.metadata.resourceVersion ?? ''}`,
  };
}

/**
 * Reads the Secrets `spec.redis` references (the password, and the TLS Secret's CA, client
 * certificate and key) through the API server. What cannot be read is unknown with a reason that
 * names the field and the Secret but never a value, so callers can put it in a condition.
 */
export async function readRedisSecrets(
  api: KubeApi,
  namespace: string,
  redis: RedisSettings,
): Promise<Known<RedisSecretMaterial>> {
  const cache: SecretCache = new Map();
  const read = (ref: { name: string; key: string } | undefined, field: string) =>
    ref === undefined ? undefined : readSecretKey(api, namespace, ref, field, cache);
  const { tls } = redis;
  const tlsRef = (key: string | undefined) =>
    tls === undefined || key === undefined || key === '' ? undefined : { name: tls.secretName, key };
  try {
    const [password, ca, cert, key] = await Promise.all([
      read(redis.passwordSecretRef, 'spec.redis.passwordSecretRef'),
      read(tlsRef(tls?.caKey), 'spec.redis.tls.caKey'),
      read(tlsRef(tls?.certKey), 'spec.redis.tls.certKey'),
      read(tlsRef(tls?.keyKey), 'spec.redis.tls.keyKey'),
    ]);
    const versions = new Set([password, ca, cert, key].flatMap((part) => (part ? [part.version] : [])));
    return {
      known: true,
      value: {
        ...(password !== undefined && { password: password.value }),
        ...(tls !== undefined && {
          tls: {
            ...(ca !== undefined && { caPem: ca.value }),
            ...(cert !== undefined && { certPem: cert.value }),
            ...(key !== undefined && { keyPem: key.value }),
          },
        }),
        version: [...versions].sort().join(','),
      },
    };
  } catch (error) {
    return { known: false, reason: error instanceof Error ? error.message : String(error) };
  }
}
