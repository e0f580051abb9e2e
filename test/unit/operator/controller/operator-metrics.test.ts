import { describe, expect, it } from 'vitest';
import type { AnalysisStatus } from '../../../../src/operator/api/status-schema.ts';
import { OperatorMetrics } from '../../../../src/operator/controller/operator-metrics.ts';
import { streamStats } from '../fixtures/stream-stats.ts';

const STATS = streamStats();

const LABELS = 'migration="team/webhooks",stream="github-webhooks",group="webhook-workers"';

describe('operator metrics', () => {
  it('exports the stream length and lag, and no lag sample at all while the lag is unknown', async () => {
    const metrics = new OperatorMetrics();
    metrics.observeStream('team/webhooks', STATS);
    let text = await metrics.registry.metrics();
    expect(text).toContain(`redis_stream_length{${LABELS}} 12`);
    expect(text).toContain(`redis_stream_consumer_lag{${LABELS}} 4`);

    metrics.observeStream('team/webhooks', { ...STATS, lag: { known: false, reason: 'NULL' } });
    text = await metrics.registry.metrics();
    expect(text).toContain(`redis_stream_length{${LABELS}} 12`);
    expect(text).not.toMatch(/^redis_stream_consumer_lag\{/m);
  });

  it('counts the verdicts of each newly counted round once', async () => {
    const metrics = new OperatorMetrics();
    const round = (n: number, verdict: 'success' | 'failure'): AnalysisStatus => ({
      stage: 'canary',
      step: 0,
      round: n,
      window: { start: '', end: '' },
      metrics: [
        {
          name: 'error-rate',
          verdict,
          message: '',
          successes: 0,
          failures: 0,
          inconclusives: 0,
          errors: 0,
          consecutiveErrors: 0,
        },
      ],
    });
    metrics.countRound('team/webhooks', undefined, round(1, 'success'));
    metrics.countRound('team/webhooks', round(1, 'success'), round(1, 'success'));
    metrics.countRound('team/webhooks', round(1, 'success'), round(2, 'failure'));
    const text = await metrics.registry.metrics();
    const series = (verdict: string): string =>
      `queueshift_analysis_measurements_total{migration="team/webhooks",metric="error-rate",verdict="${verdict}"}`;
    expect(text).toContain(`${series('success')} 1`);
    expect(text).toContain(`${series('failure')} 1`);
  });
});
