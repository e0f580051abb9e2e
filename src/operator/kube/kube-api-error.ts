/** Codes of what the Kubernetes API answered; the controller reacts to some of them specifically. */
export const KUBE_API_ERRORS = {
  KUBE_API_NOT_FOUND: 'The object does not exist (404).',
  KUBE_API_CONFLICT: 'The object changed since it was read, or already exists (409).',
  KUBE_API_GONE: 'A watch asked for a resourceVersion the server no longer has (410): list again.',
  KUBE_API_FORBIDDEN: 'RBAC refused the request (403); config/rbac lacks a rule.',
  KUBE_API_INVALID: 'The server refused the object as invalid (422).',
  KUBE_API_FAILED: 'Any other failure: server error, timeout, connection refused.',
} as const;

export type KubeApiErrorCode = keyof typeof KUBE_API_ERRORS;

const CODE_BY_STATUS: Readonly<Record<number, KubeApiErrorCode>> = {
  403: 'KUBE_API_FORBIDDEN',
  404: 'KUBE_API_NOT_FOUND',
  409: 'KUBE_API_CONFLICT',
  410: 'KUBE_API_GONE',
  422: 'KUBE_API_INVALID',
};

export class KubeApiError extends Error {
  readonly code: KubeApiErrorCode;
  /** HTTP status; 0 when no answer came. */
  readonly status: number;
  readonly method: string;
  readonly path: string;

  constructor(method: string, path: string, status: number, detail: string, options?: { cause?: unknown }) {
    const code = CODE_BY_STATUS[status] ?? 'KUBE_API_FAILED';
    super(`${code}: ${method} ${path}: ${status === 0 ? '' : `${status} `}${detail}`, options);
    this.name = 'KubeApiError';
    this.code = code;
    this.status = status;
    this.method = method;
    this.path = path;
  }
}

export function isKubeError(error: unknown, code: KubeApiErrorCode): boolean {
  return error instanceof KubeApiError && error.code === code;
}
