import { SQSClient } from '@aws-sdk/client-sqs';
import type { SqsConfig } from '../config.ts';

/**
 * The SDK client for a configured queue. No credentials here, ever: the SDK's default chain finds
 * them (environment, IRSA / pod identity, instance role). An explicit endpoint (emulators) is set
 * only when configured; without it the SDK sends each call to the host of its QueueUrl.
 */
export function createSqsClient(config: SqsConfig): SQSClient {
  return new SQSClient({
    region: config.region,
    ...(config.endpoint !== undefined && { endpoint: config.endpoint }),
  });
}
