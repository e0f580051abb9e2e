/**
 * Codes of the idempotency store's errors:
 * - `IDEMPOTENCY_INVALID_COMMIT`: a handler built a commit the store refuses before sending it
 *   (a bad argument, or a second commit for the same delivery).
 * - `IDEMPOTENCY_COMMIT_REFUSED`: the commit reached Redis but was not applied, because the delivery
 *   is already done or another worker holds its lease. Nothing of it was written.
 * - `IDEMPOTENCY_COMMIT_FAILED`: the commit script refused an operation before writing anything (a key
 *   of the wrong type, a counter that holds no integer).
 * - `IDEMPOTENCY_INVALID_DELIVERY_ID`: a message without a delivery id reached the store (back ends
 *   give such messages an id of their own, so this is a bug).
 * - `IDEMPOTENCY_UNEXPECTED_REPLY`: a script answered something it never returns (a different script
 *   under the same SHA, or a proxy in between), or a done mark has no expiry (no worker writes one).
 * - `IDEMPOTENCY_TIMEOUT`: the store did not answer within the command timeout (down, or the
 *   connection is being re-established); the command may still land later.
 */
export type IdempotencyErrorCode =
  | 'IDEMPOTENCY_INVALID_COMMIT'
  | 'IDEMPOTENCY_COMMIT_REFUSED'
  | 'IDEMPOTENCY_COMMIT_FAILED'
  | 'IDEMPOTENCY_INVALID_DELIVERY_ID'
  | 'IDEMPOTENCY_UNEXPECTED_REPLY'
  | 'IDEMPOTENCY_TIMEOUT';

export class IdempotencyError extends Error {
  readonly code: IdempotencyErrorCode;
  readonly deliveryId: string;

  constructor(code: IdempotencyErrorCode, deliveryId: string, message: string, options?: ErrorOptions) {
    super(`${message} (delivery ${deliveryId})`, options);
    this.name = 'IdempotencyError';
    this.code = code;
    this.deliveryId = deliveryId;
  }
}
