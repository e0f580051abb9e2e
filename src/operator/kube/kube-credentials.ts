import fs from 'node:fs';
import type { Clock } from '../../adapter/index.ts';

/** Codes of why no credentials could be built; each message names the file or entry at fault. */
export const KUBE_CREDENTIALS_ERRORS = {
  KUBE_CREDENTIALS_UNREADABLE: 'A kubeconfig, token or certificate file cannot be read, or is not YAML.',
  KUBE_CREDENTIALS_INVALID: 'The kubeconfig does not have the shape of one (clusters, users, contexts).',
  KUBE_CREDENTIALS_NO_CONTEXT: 'The kubeconfig has no current context, or not the one asked for.',
  KUBE_CREDENTIALS_INCOMPLETE: 'A context names a cluster or user the kubeconfig lacks.',
  KUBE_CREDENTIALS_UNSUPPORTED:
    'An entry needs a feature the operator does not implement (exec, auth-provider, basic auth, impersonation, proxies).',
  KUBE_CREDENTIALS_NOT_IN_CLUSTER: 'KUBERNETES_SERVICE_HOST or _PORT is unset: the operator is not in a pod.',
} as const;

export type KubeCredentialsErrorCode = keyof typeof KUBE_CREDENTIALS_ERRORS;

export class KubeCredentialsError extends Error {
  readonly code: KubeCredentialsErrorCode;

  constructor(code: KubeCredentialsErrorCode, message: string, options?: { cause?: unknown }) {
    super(`${code}: ${message}`, options);
    this.name = 'KubeCredentialsError';
    this.code = code;
  }
}

/** What every connection to the API server presents and trusts. */
export interface TlsMaterial {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  rejectUnauthorized?: boolean;
}

/**
 * Where the API server is and how a request proves who sends it. The TLS material is read once:
 * one keep-alive agent serves every request. The Authorization header is asked for per request, so
 * a token that rotates on disk (projected ServiceAccount tokens do, hourly) keeps working.
 */
export interface KubeCredentials {
  readonly server: URL;
  tls(): Promise<TlsMaterial>;
  /** The Authorization header of the next request; undefined when the client certificate suffices. */
  authorization(): Promise<string | undefined>;
}

export function readCredentialFile(file: string, what: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (error) {
    throw new KubeCredentialsError(
      'KUBE_CREDENTIALS_UNREADABLE',
      `cannot read ${what} ${file}: ${(error as Error).message}`,
      { cause: error },
    );
  }
}

/**
 * As client-go, a token file is read again once a minute: the kubelet rewrites a projected token at
 * 80% of its life (10 minutes at the least), so a copy read a minute ago is still valid.
 */
export const TOKEN_REREAD_MS = 60_000;

/** A bearer token kept in a file that something else rewrites. */
export class TokenFile {
  private readonly file: string;
  private readonly clock: Clock;
  private cached: { header: string; readAt: number };

  /** Reads the file once now, so that a missing token fails at start rather than at first use. */
  constructor(file: string, clock: Clock) {
    this.file = file;
    this.clock = clock;
    this.cached = { header: TokenFile.header(readCredentialFile(file, 'token file')), readAt: clock.now() };
  }

  private static header(content: Buffer): string {
    return `Bearer ${content.toString('utf8').trim()}`;
  }

  /** The token as of at most TOKEN_REREAD_MS ago; a failed re-read keeps the last good one. */
  async authorization(): Promise<string> {
    const now = this.clock.now();
    if (now - this.cached.readAt < TOKEN_REREAD_MS) return this.cached.header;
    try {
      this.cached = { header: TokenFile.header(await fs.promises.readFile(this.file)), readAt: now };
    } catch {
      // The kubelet swaps the file by renaming a symlink, so a read can miss it for an instant; the
      // last token read is still valid then, and the next request reads again.
    }
    return this.cached.header;
  }
}
