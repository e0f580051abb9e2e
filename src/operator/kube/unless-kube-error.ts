import { isKubeError, type KubeApiErrorCode } from './kube-api-error.ts';

/**
 * Runs a request for which one answer is not a failure (a 404 for an object that may be gone, a
 * 409 for an Event already recorded): that answer resolves to undefined, anything else throws.
 */
export async function unlessKubeError<T>(
  code: KubeApiErrorCode,
  request: () => Promise<T>,
): Promise<T | undefined> {
  try {
    return await request();
  } catch (error) {
    if (isKubeError(error, code)) return undefined;
    throw error;
  }
}
