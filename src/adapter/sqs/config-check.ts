import type { SqsConfig } from '../config.ts';
import { isFifoQueueUrl } from './queue-address.ts';
import { fifoQueueError, SqsError } from './sqs-error.ts';
import { MAX_VISIBILITY_SECONDS } from './visibility.ts';

/** SQS's limit for WaitTimeSeconds: longer polls are refused. */
const MAX_WAIT_TIME_SECONDS = 20;

function problems(config: SqsConfig): string[] {
  const found: string[] = [];
  for (const [what, url] of [
    ['queueUrl', config.queueUrl],
    ['deadLetterQueueUrl', config.deadLetterQueueUrl],
  ] as const) {
    if (url !== undefined && !/^https?:$/.test(URL.parse(url)?.protocol ?? '')) {
      found.push(`${what} "${url}" is not an http(s) URL`);
    }
  }
  const ranges = [
    ['waitTimeSeconds', config.waitTimeSeconds, 0, MAX_WAIT_TIME_SECONDS],
    ['visibilityTimeoutSeconds', config.visibilityTimeoutSeconds, 1, MAX_VISIBILITY_SECONDS],
    ['maxDeliveries', config.maxDeliveries, 1, Number.MAX_SAFE_INTEGER],
  ] as const;
  for (const [what, value, min, max] of ranges) {
    if (!Number.isInteger(value) || value < min || value > max) {
      found.push(`${what} is ${value}; it must be a whole number from ${min} to ${max}`);
    }
  }
  if (config.region === '') found.push('region is empty');
  return found;
}

/**
 * Refuses a configuration SQS cannot serve, before any request: the operator builds configs from a
 * QueueMigration, so the environment parser is not the only way in.
 */
export function checkConfig(config: SqsConfig): void {
  const context = { operation: 'configure', queueUrl: config.queueUrl } as const;
  const found = problems(config);
  if (found.length > 0) throw new SqsError('SQS_INVALID_CONFIG', context, found.join('; '));
  for (const url of [config.queueUrl, config.deadLetterQueueUrl]) {
    if (url !== undefined && isFifoQueueUrl(url)) throw fifoQueueError({ ...context, queueUrl: url });
  }
}
