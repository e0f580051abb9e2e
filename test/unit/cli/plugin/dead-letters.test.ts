import { describe, expect, it } from 'vitest';
import type { ReceivedMessage } from '../../../../src/adapter/index.ts';
import {
  backendOfId,
  renderDeadLetter,
  renderDeadLetters,
} from '../../../../src/cli/plugin/dlq/dead-letter-view.ts';
import { redisDeadLetter, removalCommand } from '../../../../src/cli/plugin/dlq/redis-dead-letters.ts';
import { sqsDeadLetter } from '../../../../src/cli/plugin/dlq/sqs-dead-letters.ts';

const DEAD_AT = 1_764_150_000_000;

describe('a Redis dead letter', () => {
  it('carries the original message to republish and what the dead-lettering recorded', () => {
    const letter = redisDeadLetter({
      id: `${DEAD_AT}-0`,
      fields: [
        'delivery-id',
        'd-1',
        'body',
        '{"a":1}',
        'attributes',
        '{"event":"push"}',
        'dead-reason',
        'no handler',
        'dead-original-id',
        '1764149999000-7',
        'dead-delivery-count',
        '5',
        'dead-group',
        'workers',
        'dead-consumer',
        'worker-0',
      ],
    });
    expect(letter).toEqual({
      backend: 'redis',
      id: `${DEAD_AT}-0`,
      reason: 'no handler',
      deliveries: 5,
      deadAt: DEAD_AT,
      originalId: '1764149999000-7',
      message: { ok: true, value: { deliveryId: 'd-1', body: '{"a":1}', attributes: { event: 'push' } } },
      details: { group: 'workers', consumer: 'worker-0' },
    });
  });

  it('marks a malformed entry as one that cannot be republished', () => {
    const letter = redisDeadLetter({
      id: `${DEAD_AT}-1`,
      fields: ['body', 'x', 'dead-reason', 'malformed entry'],
    });
    expect(letter.message).toEqual({ ok: false, problem: 'field delivery-id is missing or empty' });
    expect(renderDeadLetter(letter)).toContain(
      'Malformed:    field delivery-id is missing or empty (cannot be redriven)\n',
    );
  });

  it('leaves the dead-letter stream by an exact trim when it is the oldest entry, else by XDEL', () => {
    expect(removalCommand('s:dlq', '1764150000000-4', '1764150000000-4')).toEqual([
      'XTRIM',
      ['s:dlq', 'MINID', '1764150000000-5'],
    ]);
    expect(removalCommand('s:dlq', '1764150000000-9', '1764150000000-4')).toEqual([
      'XDEL',
      ['s:dlq', '1764150000000-9'],
    ]);
  });
});

describe('an SQS dead letter', () => {
  const received: ReceivedMessage = {
    backend: 'sqs',
    deliveryId: 'd-2',
    body: '{"b":2}',
    attributes: {
      event: 'issues',
      'queueshift.dead-reason': 'handler said dead',
      'queueshift.receive-count': '3',
      'queueshift.source-message-id': 'original-message',
    },
    receipt: 'receipt',
    messageId: '7f0c7a1e-0000-4000-8000-000000000001',
    deliveryCount: 2,
    enqueuedAt: DEAD_AT,
  };

  it('republishes the message as first published, without the attributes dead-lettering added', () => {
    expect(sqsDeadLetter(received)).toEqual({
      backend: 'sqs',
      id: received.messageId,
      reason: 'handler said dead',
      deliveries: 3,
      deadAt: DEAD_AT,
      originalId: 'original-message',
      message: { ok: true, value: { deliveryId: 'd-2', body: '{"b":2}', attributes: { event: 'issues' } } },
      details: { 'times read in the dead-letter queue': '2' },
    });
  });

  it('says so when the queue’s redrive policy moved it without a reason', () => {
    const moved = sqsDeadLetter({ ...received, attributes: {} });
    expect(moved.reason).toBeUndefined();
    expect(renderDeadLetters('sqs', 'queue q', [moved], DEAD_AT + 90_000)).toBe(
      'sqs: queue q\n' +
        '  ID                                     DELIVERY   EVENT   AGE     DELIVERIES   REASON\n' +
        `  ${received.messageId}   d-2        -       1m30s   -            no reason recorded (moved by the queue’s redrive policy)\n`,
    );
  });
});

describe('which back end an id names', () => {
  it.each([
    ['1764150000000-0', 'redis'],
    ['7f0c7a1e-0000-4000-8000-000000000001', 'sqs'],
    ['0-1', 'redis'],
  ] as const)('%s is %s', (id, backend) => {
    expect(backendOfId(id)).toBe(backend);
  });
});
