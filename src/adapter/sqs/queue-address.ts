/** A FIFO queue's name ends in `.fifo`, so its URL path does (a trailing slash aside). */
export function isFifoQueueUrl(queueUrl: string): boolean {
  return new URL(queueUrl).pathname.replace(/\/+$/, '').endsWith('.fifo');
}

export interface QueueArn {
  region: string;
  accountId: string;
  name: string;
}

/** `arn:<partition>:sqs:<region>:<account>:<name>`, as a redrive policy names its target. */
export function parseQueueArn(arn: string): QueueArn | undefined {
  const match = /^arn:[a-z-]+:sqs:([a-z0-9-]+):(\d{12}):([A-Za-z0-9_.-]{1,80})$/.exec(arn);
  if (!match) return undefined;
  const [, region = '', accountId = '', name = ''] = match;
  return { region, accountId, name };
}
