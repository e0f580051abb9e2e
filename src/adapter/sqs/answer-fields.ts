import { SqsError, type SqsErrorContext } from './sqs-error.ts';

/**
 * Fields SQS always sends. Their absence means something between this process and SQS is wrong
 * (a proxy, an emulator), and is reported as such: a missing count is never read as 0.
 */
export function requiredField(value: string | undefined, name: string, context: SqsErrorContext): string {
  if (value === undefined || value === '') {
    throw new SqsError('SQS_MALFORMED_RESPONSE', context, `SQS's answer has no ${name}`);
  }
  return value;
}

export function wholeNumberField(value: string | undefined, name: string, context: SqsErrorContext): number {
  const digits = requiredField(value, name, context);
  if (!/^\d+$/.test(digits)) {
    throw new SqsError(
      'SQS_MALFORMED_RESPONSE',
      context,
      `SQS's answer has ${name} "${digits}", not a whole number`,
    );
  }
  return Number(digits);
}
