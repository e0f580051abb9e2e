import { IdempotencyError } from './idempotency-error.ts';

/** The two keys the store keeps per delivery id. */
export interface DeliveryKeys {
  lease: string;
  done: string;
}

/**
 * `<prefix>{<id>}:lease` and `<prefix>{<id>}:done`. The braces are a hash tag: both keys hash to one
 * slot, so every script over them is valid on Redis Cluster too.
 */
export function deliveryKeys(prefix: string, deliveryId: string): DeliveryKeys {
  if (deliveryId.length === 0) {
    throw new IdempotencyError(
      'IDEMPOTENCY_INVALID_DELIVERY_ID',
      '(empty)',
      'a delivery id is required: with an empty one every delivery would share its keys',
    );
  }
  const base = `${prefix}{${deliveryId}}`;
  return { lease: `${base}:lease`, done: `${base}:done` };
}
