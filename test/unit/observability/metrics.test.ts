import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { labelCombinations, zeroedCounter, zeroedHistogram } from '../../../src/observability/metrics.ts';

describe('metrics that exist from start-up', () => {
  it('every combination of label values', () => {
    expect(labelCombinations({ queue_type: ['sqs', 'redis'], reason: ['done', 'held'] })).toEqual([
      { queue_type: 'sqs', reason: 'done' },
      { queue_type: 'sqs', reason: 'held' },
      { queue_type: 'redis', reason: 'done' },
      { queue_type: 'redis', reason: 'held' },
    ]);
  });

  it('exposes each given series at 0 before anything happened, so no traffic reads as 0', async () => {
    const registry = new Registry();
    const series = labelCombinations({ queue_type: ['sqs', 'redis'] });
    zeroedCounter(registry, { name: 'test_events_total', help: 'h' }, ['queue_type'], series);
    zeroedHistogram(registry, { name: 'test_duration_seconds', help: 'h' }, ['queue_type'], series);

    const text = await registry.metrics();

    expect(text).toContain('test_events_total{queue_type="sqs"} 0');
    expect(text).toContain('test_events_total{queue_type="redis"} 0');
    expect(text).toContain('test_duration_seconds_count{queue_type="redis"} 0');
    expect(text).toContain('test_duration_seconds_bucket{le="+Inf",queue_type="sqs"} 0');
  });
});
