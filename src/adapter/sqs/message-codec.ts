import type { Message, MessageAttributeValue } from '@aws-sdk/client-sqs';
import type { OutgoingMessage, ReceivedMessage } from '../types.ts';
import { requiredField, wholeNumberField } from './answer-fields.ts';
import { SqsError, type SqsErrorContext } from './sqs-error.ts';

/**
 * How a delivery is laid out in an SQS message: the body as it is, the delivery id and the
 * attributes as String message attributes. Names under `queueshift.` are this back end's own.
 */
export const DELIVERY_ID_ATTRIBUTE = 'queueshift.delivery-id';
export const DEAD_REASON_ATTRIBUTE = 'queueshift.dead-reason';
export const RECEIVE_COUNT_ATTRIBUTE = 'queueshift.receive-count';
export const SOURCE_MESSAGE_ID_ATTRIBUTE = 'queueshift.source-message-id';
const RESERVED_PREFIX = 'queueshift.';

/** SQS allows 10 attributes per message; a dead-letter copy adds four of ours to the delivery id. */
const SQS_MAX_ATTRIBUTES = 10;
export const MAX_PUBLISHED_ATTRIBUTES = SQS_MAX_ATTRIBUTES - 4;

/**
 * A reason is a diagnosis, not a payload: bounded so that a long stack trace cannot push the
 * dead-letter copy past SQS's message size.
 */
export const MAX_REASON_LENGTH = 1_024;

/** The characters SQS accepts in message text; any other makes it refuse the whole message. */
const NOT_ALLOWED_BY_SQS = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

export interface EncodedMessage {
  MessageBody: string;
  MessageAttributes: Record<string, MessageAttributeValue>;
}

const text = (value: string): MessageAttributeValue => ({ DataType: 'String', StringValue: value });

/** SQS's rules for attribute names, checked here so a refusal names the attribute. */
function nameProblem(name: string): string | undefined {
  if (name.startsWith(RESERVED_PREFIX)) {
    return `attribute ${name}: names under ${RESERVED_PREFIX} are reserved`;
  }
  if (!/^[A-Za-z0-9_.-]{1,256}$/.test(name)) {
    return `attribute ${name}: SQS allows 1-256 letters, digits, _, - and .`;
  }
  if (/^(aws|amazon)\./i.test(name)) return `attribute ${name}: the AWS. and Amazon. prefixes belong to AWS`;
  if (name.startsWith('.') || name.endsWith('.') || name.includes('..')) {
    return `attribute ${name}: SQS refuses a leading, trailing or doubled period`;
  }
  return undefined;
}

function valueProblem(what: string, value: string): string | undefined {
  if (value === '') return `${what} is empty (SQS refuses empty attribute values)`;
  if (NOT_ALLOWED_BY_SQS.test(value)) {
    return `${what} holds characters SQS refuses (control characters or lone surrogates)`;
  }
  return undefined;
}

/** The SendMessage fields of a delivery; refuses, naming every problem, what SQS would refuse. */
export function encodeMessage(message: OutgoingMessage, context: SqsErrorContext): EncodedMessage {
  const attributes = Object.entries(message.attributes ?? {});
  const problems = [
    valueProblem('the delivery id', message.deliveryId),
    message.body === '' ? 'the body is empty (SQS refuses empty messages)' : undefined,
    attributes.length > MAX_PUBLISHED_ATTRIBUTES
      ? `${attributes.length} attributes; at most ${MAX_PUBLISHED_ATTRIBUTES} (SQS allows 10, a dead-letter copy adds 4)`
      : undefined,
    ...attributes.flatMap(([name, value]) => [nameProblem(name), valueProblem(`attribute ${name}`, value)]),
  ].filter((problem) => problem !== undefined);
  if (problems.length > 0) {
    throw new SqsError('SQS_INVALID_MESSAGE', context, `refused before sending: ${problems.join('; ')}`);
  }
  return {
    MessageBody: message.body,
    MessageAttributes: {
      ...Object.fromEntries(attributes.map(([name, value]) => [name, text(value)])),
      [DELIVERY_ID_ATTRIBUTE]: text(message.deliveryId),
    },
  };
}

/** A reason SQS will carry: bounded, never empty, disallowed characters replaced rather than refused. */
export function reasonAttribute(reason: string): string {
  const cleaned = reason.replace(new RegExp(NOT_ALLOWED_BY_SQS, 'gu'), '\uFFFD');
  // Cut by code point: a surrogate pair cut in half is itself a character SQS refuses.
  const points = Array.from(cleaned);
  const bounded =
    points.length > MAX_REASON_LENGTH ? `${points.slice(0, MAX_REASON_LENGTH).join('')}…` : cleaned;
  return bounded === '' ? '(no reason given)' : bounded;
}

/** The dead-letter copy: the same body and attributes, plus why, how often, and where from. */
export function encodeDeadLetter(message: ReceivedMessage, reason: string): EncodedMessage {
  return {
    MessageBody: message.body,
    MessageAttributes: {
      ...Object.fromEntries(
        Object.entries(message.attributes ?? {}).map(([name, value]) => [name, text(value)]),
      ),
      [DELIVERY_ID_ATTRIBUTE]: text(message.deliveryId),
      [DEAD_REASON_ATTRIBUTE]: text(reasonAttribute(reason)),
      [RECEIVE_COUNT_ATTRIBUTE]: { DataType: 'Number', StringValue: String(message.deliveryCount) },
      [SOURCE_MESSAGE_ID_ATTRIBUTE]: text(message.messageId),
    },
  };
}

export interface DecodedMessage {
  message: ReceivedMessage;
  /**
   * False for a message that was not published by queueshift: its delivery id is then
   * `sqs:<MessageId>`, the same for every copy SQS delivers of it, so duplicates still meet in
   * the idempotency store.
   */
  hasDeliveryId: boolean;
}

/** The ReceivedMessage of a ReceiveMessage entry asked with ApproximateReceiveCount and SentTimestamp. */
export function decodeMessage(raw: Message, context: SqsErrorContext): DecodedMessage {
  const messageId = requiredField(raw.MessageId, 'MessageId', context);
  const about = { ...context, messageId };
  const attributes: Record<string, string> = {};
  // String and Number attributes carry text; Binary ones are never written by queueshift.
  for (const [name, value] of Object.entries(raw.MessageAttributes ?? {})) {
    if (name !== DELIVERY_ID_ATTRIBUTE && value.StringValue !== undefined) {
      attributes[name] = value.StringValue;
    }
  }
  const deliveryId = raw.MessageAttributes?.[DELIVERY_ID_ATTRIBUTE]?.StringValue;
  return {
    message: {
      backend: 'sqs',
      deliveryId: deliveryId ?? `sqs:${messageId}`,
      body: requiredField(raw.Body, 'Body', about),
      attributes,
      receipt: requiredField(raw.ReceiptHandle, 'ReceiptHandle', about),
      messageId,
      deliveryCount: wholeNumberField(
        raw.Attributes?.ApproximateReceiveCount,
        'ApproximateReceiveCount',
        about,
      ),
      enqueuedAt: wholeNumberField(raw.Attributes?.SentTimestamp, 'SentTimestamp', about),
    },
    hasDeliveryId: deliveryId !== undefined,
  };
}

/** A message read from a dead-letter queue: the delivery as published, and what dead-lettering added. */
export interface DeadLetterCopy {
  message: OutgoingMessage;
  /** Absent when SQS moved it by itself (redrive policy) rather than a handler's `dead` outcome. */
  reason: string | undefined;
  /** Receives before it was dead-lettered, when the copy records them. */
  deliveryCount: number | undefined;
  /** MessageId of the original in the main queue, when recorded. */
  sourceMessageId: string | undefined;
}

const DEAD_LETTER_ATTRIBUTES: readonly string[] = [
  DEAD_REASON_ATTRIBUTE,
  RECEIVE_COUNT_ATTRIBUTE,
  SOURCE_MESSAGE_ID_ATTRIBUTE,
];

/** The delivery as its producer published it: without the attributes dead-lettering added. */
function publishedMessage(received: ReceivedMessage): OutgoingMessage {
  const published = Object.entries(received.attributes ?? {}).filter(
    ([name]) => !DEAD_LETTER_ATTRIBUTES.includes(name),
  );
  return {
    deliveryId: received.deliveryId,
    body: received.body,
    ...(published.length > 0 && { attributes: Object.fromEntries(published) }),
  };
}

/** Splits a received dead-letter copy (see encodeDeadLetter) into the delivery and its dead-letter note. */
export function readDeadLetterCopy(received: ReceivedMessage): DeadLetterCopy {
  const attributes = received.attributes ?? {};
  const count = Number(attributes[RECEIVE_COUNT_ATTRIBUTE]);
  return {
    message: publishedMessage(received),
    reason: attributes[DEAD_REASON_ATTRIBUTE],
    deliveryCount: Number.isInteger(count) ? count : undefined,
    sourceMessageId: attributes[SOURCE_MESSAGE_ID_ATTRIBUTE],
  };
}
