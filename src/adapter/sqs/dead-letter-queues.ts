import { GetQueueUrlCommand } from '@aws-sdk/client-sqs';
import type { Known } from '../types.ts';
import { requiredField } from './answer-fields.ts';
import { parseQueueArn } from './queue-address.ts';
import { COUNT_ATTRIBUTES, readCounts, readFifo, type RedrivePolicy } from './queue-attributes.ts';
import type { DeadLetterQueue } from './queue-profile.ts';
import type { SqsRequests } from './sqs-requests.ts';
import { fifoQueueError, SqsError, type SqsErrorContext } from './sqs-error.ts';

/**
 * Where dead letters go: the configured queue (SQS_DLQ_URL), else the target of the queue's
 * redrive policy, else nowhere. Resolved at each use rather than cached, so a redrive policy
 * changed while the process runs is followed.
 */
export class DeadLetterQueues {
  readonly #requests: SqsRequests;
  readonly #configuredUrl: string | undefined;

  constructor(requests: SqsRequests, configuredUrl: string | undefined) {
    this.#requests = requests;
    this.#configuredUrl = configuredUrl;
  }

  /** `redrivePolicy` is asked only when no queue is configured. */
  async url(
    context: SqsErrorContext,
    redrivePolicy: () => Promise<RedrivePolicy | undefined>,
  ): Promise<string | undefined> {
    if (this.#configuredUrl !== undefined) return this.#configuredUrl;
    const policy = await redrivePolicy();
    if (policy === undefined) return undefined;
    const about = { ...context, queueUrl: policy.deadLetterTargetArn };
    const arn = parseQueueArn(policy.deadLetterTargetArn);
    if (arn === undefined) {
      throw new SqsError('SQS_MALFORMED_RESPONSE', about, 'the redrive policy names no SQS queue ARN');
    }
    const answer = await this.#requests.send(about, (client, abortSignal) =>
      client.send(new GetQueueUrlCommand({ QueueName: arn.name, QueueOwnerAWSAccountId: arn.accountId }), {
        abortSignal,
      }),
    );
    return requiredField(answer.QueueUrl, 'QueueUrl', about);
  }

  /** The dead-letter queue with its ARN, checked to exist and not to be FIFO. */
  async describe(
    context: SqsErrorContext,
    redrivePolicy: RedrivePolicy | undefined,
  ): Promise<DeadLetterQueue | undefined> {
    const url = await this.url(context, () => Promise.resolve(redrivePolicy));
    if (url === undefined) return undefined;
    const about = { ...context, queueUrl: url };
    const attributes = await this.#requests.attributes(about, ['QueueArn', 'FifoQueue']);
    if (readFifo(attributes)) throw fifoQueueError(about);
    return { url, arn: requiredField(attributes['QueueArn'], 'QueueArn', about) };
  }

  /**
   * Everything in the dead-letter queue. Unknown, with the reason, when there is none or it cannot
   * be read: the queue's own figures stand without it, and unknown is never reported as 0.
   */
  async depth(
    context: SqsErrorContext,
    redrivePolicy: () => Promise<RedrivePolicy | undefined>,
  ): Promise<Known<number>> {
    try {
      const url = await this.url(context, redrivePolicy);
      if (url === undefined) {
        return { known: false, reason: 'no dead-letter queue: neither SQS_DLQ_URL nor a redrive policy' };
      }
      const about = { ...context, queueUrl: url };
      const counts = readCounts(await this.#requests.attributes(about, COUNT_ATTRIBUTES), about);
      return { known: true, value: counts.visible + counts.inFlight + counts.delayed };
    } catch (error) {
      return { known: false, reason: (error as Error).message };
    }
  }
}
