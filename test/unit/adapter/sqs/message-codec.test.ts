import type { Message } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import {
  DEAD_REASON_ATTRIBUTE,
  decodeMessage,
  DELIVERY_ID_ATTRIBUTE,
  encodeDeadLetter,
  encodeMessage,
  MAX_PUBLISHED_ATTRIBUTES,
  MAX_REASON_LENGTH,
  reasonAttribute,
  RECEIVE_COUNT_ATTRIBUTE,
  SOURCE_MESSAGE_ID_ATTRIBUTE,
} from '../../../../src/adapter/sqs/message-codec.ts';
import type { ReceivedMessage } from '../../../../src/adapter/types.ts';

const queueUrl = 'http://127.0.0.1:1/000000000000/webhooks';
const publish = { operation: 'publish', queueUrl } as const;
const receive = { operation: 'receive', queueUrl } as const;

describe('encodeMessage', () => {
  it('sends the body as it is, and the delivery id and attributes as String attributes', () => {
    expect(
      encodeMessage({ deliveryId: 'd-1', body: '{"a":1}', attributes: { event: 'push' } }, publish),
    ).toEqual({
      MessageBody: '{"a":1}',
      MessageAttributes: {
        event: { DataType: 'String', StringValue: 'push' },
        [DELIVERY_ID_ATTRIBUTE]: { DataType: 'String', StringValue: 'd-1' },
      },
    });
  });

  const tooMany = Object.fromEntries(
    Array.from({ length: MAX_PUBLISHED_ATTRIBUTES + 1 }, (_, i) => [`a${i}`, 'x']),
  );
  it.each([
    {
      why: 'an empty delivery id',
      message: { deliveryId: '', body: 'b' },
      named: 'the delivery id is empty',
    },
    { why: 'an empty body', message: { deliveryId: 'd', body: '' }, named: 'the body is empty' },
    {
      why: 'too many attributes for a dead-letter copy to fit',
      message: { deliveryId: 'd', body: 'b', attributes: tooMany },
      named: `at most ${MAX_PUBLISHED_ATTRIBUTES}`,
    },
    {
      why: 'a reserved name',
      message: { deliveryId: 'd', body: 'b', attributes: { [DEAD_REASON_ATTRIBUTE]: 'forged' } },
      named: 'are reserved',
    },
    {
      why: 'an AWS prefix',
      message: { deliveryId: 'd', body: 'b', attributes: { 'AWS.trace': 'x' } },
      named: 'belong to AWS',
    },
    {
      why: 'a character SQS refuses in a name',
      message: { deliveryId: 'd', body: 'b', attributes: { 'event name': 'x' } },
      named: 'attribute event name',
    },
    {
      why: 'a doubled period',
      message: { deliveryId: 'd', body: 'b', attributes: { 'a..b': 'x' } },
      named: 'doubled period',
    },
    {
      why: 'an empty value',
      message: { deliveryId: 'd', body: 'b', attributes: { event: '' } },
      named: 'attribute event is empty',
    },
    {
      why: 'a control character in a value',
      message: { deliveryId: 'd', body: 'b', attributes: { event: 'push\u0007' } },
      named: 'characters SQS refuses',
    },
  ])('refuses $why, naming it', ({ message, named }) => {
    const encode = (): unknown => encodeMessage(message, publish);
    expect(encode).toThrow(named);
    expect(encode).toThrow(expect.objectContaining({ code: 'SQS_INVALID_MESSAGE' }));
  });

  it('names every problem of a message at once', () => {
    expect(() => encodeMessage({ deliveryId: '', body: '', attributes: { event: '' } }, publish)).toThrow(
      `publish on ${queueUrl}: refused before sending: ` +
        'the delivery id is empty (SQS refuses empty attribute values); ' +
        'the body is empty (SQS refuses empty messages); ' +
        'attribute event is empty (SQS refuses empty attribute values)',
    );
  });
});

const raw: Message = {
  MessageId: 'm-1',
  ReceiptHandle: 'r-1',
  Body: '{"a":1}',
  Attributes: { ApproximateReceiveCount: '3', SentTimestamp: '1700000000000' },
  MessageAttributes: {
    [DELIVERY_ID_ATTRIBUTE]: { DataType: 'String', StringValue: 'd-1' },
    event: { DataType: 'String', StringValue: 'push' },
    size: { DataType: 'Number', StringValue: '12' },
  },
};

describe('decodeMessage', () => {
  it('gives the delivery, its receive count and sent time', () => {
    expect(decodeMessage(raw, receive)).toEqual({
      hasDeliveryId: true,
      message: {
        backend: 'sqs',
        deliveryId: 'd-1',
        body: '{"a":1}',
        attributes: { event: 'push', size: '12' },
        receipt: 'r-1',
        messageId: 'm-1',
        deliveryCount: 3,
        enqueuedAt: 1_700_000_000_000,
      },
    });
  });

  it('keys a message queueshift did not publish by its MessageId, and says so', () => {
    const decoded = decodeMessage({ ...raw, MessageAttributes: {} }, receive);
    expect(decoded.hasDeliveryId).toBe(false);
    expect(decoded.message.deliveryId).toBe('sqs:m-1');
  });

  it.each([
    [{ ...raw, ReceiptHandle: undefined }, 'no ReceiptHandle'],
    [{ ...raw, Attributes: { SentTimestamp: '1' } }, 'no ApproximateReceiveCount'],
    [
      { ...raw, Attributes: { ApproximateReceiveCount: 'x', SentTimestamp: '1' } },
      'ApproximateReceiveCount "x"',
    ],
  ])('refuses an answer without what settling or counting needs (%#)', (message, named) => {
    const decode = (): unknown => decodeMessage(message, receive);
    expect(decode).toThrow(named);
    expect(decode).toThrow(expect.objectContaining({ code: 'SQS_MALFORMED_RESPONSE', messageId: 'm-1' }));
  });
});

describe('encodeDeadLetter', () => {
  const received: ReceivedMessage = decodeMessage(raw, receive).message;

  it('keeps body, delivery id and attributes, and adds the reason, receive count and source id', () => {
    expect(encodeDeadLetter(received, 'schema mismatch')).toEqual({
      MessageBody: '{"a":1}',
      MessageAttributes: {
        event: { DataType: 'String', StringValue: 'push' },
        size: { DataType: 'String', StringValue: '12' },
        [DELIVERY_ID_ATTRIBUTE]: { DataType: 'String', StringValue: 'd-1' },
        [DEAD_REASON_ATTRIBUTE]: { DataType: 'String', StringValue: 'schema mismatch' },
        [RECEIVE_COUNT_ATTRIBUTE]: { DataType: 'Number', StringValue: '3' },
        [SOURCE_MESSAGE_ID_ATTRIBUTE]: { DataType: 'String', StringValue: 'm-1' },
      },
    });
  });

  it('fits SQS: a published message with the most attributes still has room for the copy', () => {
    const attributes = Object.fromEntries(
      Array.from({ length: MAX_PUBLISHED_ATTRIBUTES }, (_, i) => [`a${i}`, 'x']),
    );
    const copy = encodeDeadLetter({ ...received, attributes }, 'why');
    expect(Object.keys(copy.MessageAttributes)).toHaveLength(10);
  });
});

describe('reasonAttribute', () => {
  it.each([
    { reason: '', expected: '(no reason given)', why: 'SQS refuses an empty value' },
    {
      reason: 'bad\u001b[31m input',
      expected: 'bad\uFFFD[31m input',
      why: 'terminal colours in a stack trace',
    },
    { reason: 'lone \uD800 half', expected: 'lone \uFFFD half', why: 'a lone surrogate' },
  ])('makes a reason SQS accepts: $why', ({ reason, expected }) => {
    expect(reasonAttribute(reason)).toBe(expected);
  });

  it('bounds a long reason without cutting a character in half', () => {
    const reason = '😀'.repeat(MAX_REASON_LENGTH + 10);
    const bounded = reasonAttribute(reason);
    expect(Array.from(bounded)).toHaveLength(MAX_REASON_LENGTH + 1);
    expect(bounded.endsWith('😀…')).toBe(true);
  });
});
