import { describe, expect, it } from 'vitest';
import { readCounts, readFifo, readRedrivePolicy } from '../../../../src/adapter/sqs/queue-attributes.ts';

const context = { operation: 'stats', queueUrl: 'http://127.0.0.1:1/000000000000/q' } as const;

describe('readCounts', () => {
  it('reads visible, in flight and delayed', () => {
    expect(
      readCounts(
        {
          ApproximateNumberOfMessages: '7',
          ApproximateNumberOfMessagesNotVisible: '2',
          ApproximateNumberOfMessagesDelayed: '1',
        },
        context,
      ),
    ).toEqual({ visible: 7, inFlight: 2, delayed: 1 });
  });

  it.each([
    [
      { ApproximateNumberOfMessages: '7', ApproximateNumberOfMessagesNotVisible: '2' },
      'no ApproximateNumberOfMessagesDelayed',
    ],
    [
      {
        ApproximateNumberOfMessages: 'many',
        ApproximateNumberOfMessagesNotVisible: '2',
        ApproximateNumberOfMessagesDelayed: '0',
      },
      'ApproximateNumberOfMessages "many"',
    ],
  ])('never reads a missing or unreadable count as 0 (%o)', (attributes, named) => {
    const read = (): unknown => readCounts(attributes, context);
    expect(read).toThrow(named);
    expect(read).toThrow(expect.objectContaining({ code: 'SQS_MALFORMED_RESPONSE' }));
  });
});

describe('readRedrivePolicy', () => {
  const arn = 'arn:aws:sqs:us-east-1:000000000000:dlq';

  it.each([
    JSON.stringify({ deadLetterTargetArn: arn, maxReceiveCount: 5 }),
    JSON.stringify({ deadLetterTargetArn: arn, maxReceiveCount: '5' }),
  ])('reads %s, whichever way SQS writes the count', (text) => {
    expect(readRedrivePolicy({ RedrivePolicy: text }, context)).toEqual({
      deadLetterTargetArn: arn,
      maxReceiveCount: 5,
    });
  });

  it('is absent when the queue has no policy', () => {
    expect(readRedrivePolicy({}, context)).toBeUndefined();
  });

  it.each([
    '{not json',
    JSON.stringify({ maxReceiveCount: 5 }),
    JSON.stringify({ deadLetterTargetArn: arn }),
  ])('refuses %s', (text) => {
    expect(() => readRedrivePolicy({ RedrivePolicy: text }, context)).toThrow(
      expect.objectContaining({ code: 'SQS_MALFORMED_RESPONSE' }),
    );
  });
});

describe('readFifo', () => {
  it('is true only when SQS says FifoQueue is true', () => {
    expect(readFifo({ FifoQueue: 'true' })).toBe(true);
    expect(readFifo({ FifoQueue: 'false' })).toBe(false);
    expect(readFifo({})).toBe(false);
  });
});
