import { describe, expect, it } from 'vitest';
import { chunks, entryId, unconfirmed } from '../../../../src/adapter/sqs/batch-entries.ts';
import type { ReceivedMessage } from '../../../../src/adapter/types.ts';

const context = { operation: 'ack', queueUrl: 'http://127.0.0.1:1/000000000000/q' } as const;

const message = (n: number): ReceivedMessage => ({
  backend: 'sqs',
  deliveryId: `d-${n}`,
  body: 'b',
  receipt: `r-${n}`,
  messageId: `m-${n}`,
  deliveryCount: 1,
  enqueuedAt: 0,
});

describe('chunks', () => {
  it.each([
    [0, []],
    [10, [10]],
    [25, [10, 10, 5]],
  ])('splits %i messages into batches of %j', (count, sizes) => {
    const items = Array.from({ length: count }, (_, i) => i);
    const split = chunks(items);
    expect(split.map((c) => c.length)).toEqual(sizes);
    expect(split.flat()).toEqual(items);
  });
});

describe('unconfirmed', () => {
  const chunk = [message(0), message(1), message(2)];

  it('is empty when SQS confirms every entry', () => {
    expect(unconfirmed(chunk, { Successful: chunk.map((_, i) => ({ Id: entryId(i) })) }, context)).toEqual(
      [],
    );
  });

  it('names the message SQS refused, with its code, and only that one', () => {
    const failures = unconfirmed(
      chunk,
      {
        Successful: [{ Id: entryId(0) }, { Id: entryId(2) }],
        Failed: [
          {
            Id: entryId(1),
            Code: 'ReceiptHandleIsInvalid',
            SenderFault: true,
            Message: 'The handle is invalid.',
          },
        ],
      },
      context,
    );
    expect(failures).toHaveLength(1);
    expect(failures[0]?.message).toBe(chunk[1]);
    expect(failures[0]?.error).toMatchObject({
      code: 'SQS_BATCH_ENTRY_FAILED',
      awsCode: 'ReceiptHandleIsInvalid',
      messageId: 'm-1',
      queueUrl: context.queueUrl,
    });
    expect(failures[0]?.error.message).toContain('sender fault');
  });

  it('counts an entry the answer does not mention as not settled', () => {
    const failures = unconfirmed(chunk, { Successful: [{ Id: entryId(0) }, { Id: entryId(1) }] }, context);
    expect(failures.map((f) => [f.message.messageId, (f.error as { code?: string }).code])).toEqual([
      ['m-2', 'SQS_MALFORMED_RESPONSE'],
    ]);
  });
});
