import { describe, expect, it } from 'vitest';
import { OperatorMetrics } from '../../../../src/operator/controller/operator-metrics.ts';
import { streamStats } from '../fixtures/stream-stats.ts';

/** The stream samples of /metrics, one line each. */
async function streamSamples(metrics: OperatorMetrics): Promise<string[]> {
  const text = await metrics.registry.metrics();
  return text.split('\n').filter((line) => line.startsWith('redis_stream_'));
}

describe('the stream series of a migration the operator stops measuring', () => {
  it('go when it is released, while another migration keeps its own', async () => {
    const metrics = new OperatorMetrics();
    metrics.observeStream('team/finished', streamStats());
    metrics.observeStream('team/running', streamStats({ stream: 'other', length: 3 }));

    metrics.forgetStream('team/finished');

    expect(await streamSamples(metrics)).toEqual([
      'redis_stream_length{migration="team/running",stream="other",group="webhook-workers"} 3',
      'redis_stream_consumer_lag{migration="team/running",stream="other",group="webhook-workers"} 4',
    ]);
    // Measured again (a retry): the series come back with the new reading.
    metrics.observeStream('team/finished', streamStats({ length: 1 }));
    expect(await streamSamples(metrics)).toContain(
      'redis_stream_length{migration="team/finished",stream="github-webhooks",group="webhook-workers"} 1',
    );
  });

  it('of a stream or group it no longer uses go as soon as it reads the new one', async () => {
    const metrics = new OperatorMetrics();
    metrics.observeStream('team/webhooks', streamStats());
    metrics.observeStream(
      'team/webhooks',
      streamStats({ group: 'renamed', length: 7, lag: { known: false, reason: 'NULL' } }),
    );

    expect(await streamSamples(metrics)).toEqual([
      'redis_stream_length{migration="team/webhooks",stream="github-webhooks",group="renamed"} 7',
    ]);
  });

  it('forgetting a migration that was never measured changes nothing', async () => {
    const metrics = new OperatorMetrics();
    metrics.observeStream('team/webhooks', streamStats());
    metrics.forgetStream('team/other');
    expect(await streamSamples(metrics)).toHaveLength(2);
  });
});
