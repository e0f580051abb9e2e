import { QueueDoesNotExist } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { requestError } from '../../../../src/adapter/sqs/request-error.ts';
import { SqsError } from '../../../../src/adapter/sqs/sqs-error.ts';

const context = { operation: 'publish', queueUrl: 'http://127.0.0.1:1/000000000000/webhooks' } as const;
const sdkAbort = Object.assign(new Error('Request aborted'), { name: 'AbortError' });

describe('requestError', () => {
  it.each([
    { cause: 'caller', code: 'SQS_ABORTED', named: "the caller's signal" },
    { cause: 'timeout', code: 'SQS_TIMEOUT', named: 'no answer within 250 ms' },
    { cause: 'closed', code: 'SQS_CLOSED', named: 'closed' },
  ] as const)('tells an abort by $cause from the others', ({ cause, code, named }) => {
    const error = requestError(sdkAbort, context, cause, 250);
    expect(error).toMatchObject({ code, operation: 'publish', queueUrl: context.queueUrl, cause: sdkAbort });
    expect(error.message).toContain(named);
    expect(error.message).toContain(context.queueUrl);
  });

  it('names a missing queue', () => {
    const missing = new QueueDoesNotExist({ message: 'The specified queue does not exist.', $metadata: {} });
    expect(requestError(missing, context, undefined, 250)).toMatchObject({
      code: 'SQS_QUEUE_NOT_FOUND',
      awsCode: 'QueueDoesNotExist',
    });
  });

  it("carries SQS's or the socket's code for anything else", () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    const error = requestError(refused, context, undefined, 250);
    expect(error).toMatchObject({ code: 'SQS_REQUEST_FAILED', awsCode: 'ECONNREFUSED' });
    expect(error.message).toBe(
      `publish on ${context.queueUrl}: ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:1`,
    );
  });

  it('passes an SqsError through unchanged', () => {
    const own = new SqsError('SQS_MALFORMED_RESPONSE', context, 'no MessageId');
    expect(requestError(own, context, 'timeout', 250)).toBe(own);
  });
});
