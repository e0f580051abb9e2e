export interface Rejection {
  status: number;
  message: string;
  /** The Allow header of a 405. */
  allow?: string;
}

/**
 * Every way the webhook refuses a request: the reason (a metric label and the `error` field of the
 * response), its HTTP status, and what the response tells the sender. Nothing is published for any
 * of them. GitHub shows the response in the delivery's log, so the message says what to fix.
 */
export const REJECTIONS = {
  not_found: { status: 404, message: 'no webhook is served at this path' },
  method_not_allowed: { status: 405, message: 'webhooks are delivered with POST', allow: 'POST' },
  signature_missing: {
    status: 401,
    message: 'X-Hub-Signature-256 is missing: configure a secret on the webhook',
  },
  signature_invalid: {
    status: 401,
    message: 'X-Hub-Signature-256 does not match the body: check that both sides use the same secret',
  },
  body_too_large: { status: 413, message: 'the body exceeds the size limit' },
  delivery_header_invalid: {
    status: 400,
    message: 'X-GitHub-Delivery is missing or malformed (1-128 letters, digits, ".", "_", ":" or "-")',
  },
  event_header_invalid: {
    status: 400,
    message: 'X-GitHub-Event is missing or malformed (1-100 letters, digits, ".", "_" or "-")',
  },
  payload_malformed: { status: 400, message: 'the payload is not a JSON object' },
  queue_unavailable: {
    status: 503,
    message: 'no queue accepted the delivery; redeliver it once the service is healthy',
  },
} as const satisfies Record<string, Rejection>;

export type RejectionReason = keyof typeof REJECTIONS;

export const REJECTION_REASONS = Object.keys(REJECTIONS) as RejectionReason[];
