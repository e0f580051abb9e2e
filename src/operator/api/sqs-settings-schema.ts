import { z } from 'zod';
import { withRules } from './cel-rule.ts';
import { httpUrl } from './fields.ts';

const standardQueueUrl = (what: string): z.ZodString =>
  withRules(httpUrl(what), [
    {
      cel: "!self.endsWith('.fifo')",
      holds: (url) => !url.endsWith('.fifo'),
      message: 'FIFO queues are not supported: consuming SQS and Redis together cannot keep per-group order',
    },
  ]);

export const sqsSettings = z
  .object({
    queueUrl: standardQueueUrl('URL of the standard SQS queue the pipeline runs on today (SQS_QUEUE_URL).'),
    deadLetterQueueUrl: standardQueueUrl('URL of its dead-letter queue (SQS_DLQ_URL).').optional(),
    region: z
      .string()
      .min(1)
      .max(32)
      .regex(/^[a-z0-9-]+$/, 'must be an AWS region such as eu-west-1')
      .describe('AWS region of the queue (AWS_REGION).'),
    endpoint: httpUrl('SQS endpoint override, for emulators only (AWS_ENDPOINT_URL).').optional(),
  })
  .describe(
    'The SQS queue the pipeline moves away from. Credentials come from the default AWS chain ' +
      '(IRSA / pod identity), never from this resource.',
  );

export type SqsSettings = z.output<typeof sqsSettings>;
