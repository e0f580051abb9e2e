/** Codes of a sweep's failures; each leaves every message where a later sweep finds it again. */
export const SQS_SWEEP_ERRORS = {
  SQS_SWEEP_READ_FAILED: 'SQS (or its dead-letter queue) could not be read; nothing was moved by that read.',
  SQS_SWEEP_REDIS_REFUSED:
    'Redis refused an entry: the message was given back to SQS at once and is swept again next time.',
  SQS_SWEEP_DELETE_FAILED:
    'Redis holds the entry but SQS did not delete the message: it is swept again after its visibility ' +
    'timeout, and workers handle the second copy as a duplicate of its delivery id.',
} as const;

export type SqsSweepErrorCode = keyof typeof SQS_SWEEP_ERRORS;

export interface SqsSweepErrorContext {
  /** The queue being read: the SQS queue or its dead-letter queue. */
  queueUrl: string;
  /** The Redis key the messages were going to: the stream or `<stream>:dlq`. */
  target: string;
  /** Delivery ids concerned. */
  deliveryIds?: readonly string[];
}

export class SqsSweepError extends Error {
  readonly code: SqsSweepErrorCode;
  readonly context: SqsSweepErrorContext;

  constructor(
    code: SqsSweepErrorCode,
    context: SqsSweepErrorContext,
    detail: string,
    options?: ErrorOptions,
  ) {
    super(`${code}: sweeping ${context.queueUrl} into ${context.target}: ${detail}`, options);
    this.name = 'SqsSweepError';
    this.code = code;
    this.context = context;
  }
}
