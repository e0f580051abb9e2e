import { describe, expect, it } from 'vitest';
import { isFifoQueueUrl, parseQueueArn } from '../../../../src/adapter/sqs/queue-address.ts';

describe('isFifoQueueUrl', () => {
  it.each([
    ['https://sqs.eu-west-1.amazonaws.com/123456789012/webhooks.fifo', true],
    ['https://sqs.eu-west-1.amazonaws.com/123456789012/webhooks.fifo/', true],
    ['https://sqs.eu-west-1.amazonaws.com/123456789012/webhooks', false],
    ['https://sqs.eu-west-1.amazonaws.com/123456789012/fifo-webhooks', false],
    ['http://127.0.0.1:4566/000000000000/webhooks?x=.fifo', false],
  ])('%s → %s', (url, fifo) => {
    expect(isFifoQueueUrl(url)).toBe(fifo);
  });
});

describe('parseQueueArn', () => {
  it('reads the region, account and name a redrive policy points at', () => {
    expect(parseQueueArn('arn:aws:sqs:eu-west-1:123456789012:webhooks-dlq')).toEqual({
      region: 'eu-west-1',
      accountId: '123456789012',
      name: 'webhooks-dlq',
    });
    expect(parseQueueArn('arn:aws-us-gov:sqs:us-gov-west-1:123456789012:dlq')?.name).toBe('dlq');
  });

  it.each([
    'arn:aws:sns:eu-west-1:123456789012:topic',
    'arn:aws:sqs:eu-west-1:1234:dlq',
    'webhooks-dlq',
    'arn:aws:sqs:eu-west-1:123456789012:',
  ])('refuses %s', (arn) => {
    expect(parseQueueArn(arn)).toBeUndefined();
  });
});
