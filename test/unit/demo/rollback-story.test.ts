import { describe, expect, it } from 'vitest';
import { producersBackOnSqs, publishP99Query } from '../../../scripts/demo/rollback-story.ts';

describe('the rollback story’s reading of the producers’ settings', () => {
  it.each([
    ['before any canary', ['webhook sqs/'], false],
    ['while the canary runs', ['webhook sqs/', 'webhook sqs/redis', 'webhook-canary redis/sqs'], false],
    [
      'canary gone, producers still with their Redis fallback',
      ['webhook sqs/redis', 'webhook-canary redis/sqs', 'webhook-canary deleted'],
      false,
    ],
    [
      'canary gone, producers back on SQS alone',
      ['webhook sqs/redis', 'webhook-canary redis/sqs', 'webhook-canary deleted', 'webhook sqs/'],
      true,
    ],
    [
      'producers back on SQS before the canary went',
      ['webhook sqs/redis', 'webhook-canary redis/sqs', 'webhook sqs/', 'webhook-canary deleted'],
      true,
    ],
  ])('%s → %s', (_, changes, expected) => {
    expect(producersBackOnSqs(changes)).toBe(expected);
  });

  it('gates on the p99 of this namespace’s webhook publishes to Redis only', () => {
    expect(publishP99Query('queueshift-demo-x')).toBe(
      'histogram_quantile(0.99, sum by (le) (rate(webhook_event_processing_duration_seconds_bucket' +
        '{namespace="queueshift-demo-x",container="webhook",queue_type="redis"}[10s])))',
    );
  });
});
