import { describe, expect, it } from 'vitest';
import { queueMigrationSpec } from '../../../src/operator/api/spec-schema.ts';
import { minimalSpec } from './fixtures/migrations.ts';

const withMetric = (metric: Record<string, unknown>) =>
  queueMigrationSpec.safeParse({
    ...minimalSpec(),
    analysis: {
      metrics: [
        { name: 'probe-p99', threshold: { operator: '<=', value: 2 }, stages: ['canary'], ...metric },
      ],
    },
  });

describe('a probe metric in the spec', () => {
  it('is a probe figure with a threshold, in the stages it names', () => {
    const parsed = withMetric({ probe: 'round-trip-p99-seconds' });
    expect(parsed.success).toBe(true);
    expect(parsed.data?.analysis.metrics[0]).toMatchObject({
      probe: 'round-trip-p99-seconds',
      stages: ['canary'],
    });
  });

  it.each([
    ['a probe and a Redis figure', { probe: 'failed-probes', redis: 'backlog' }],
    ['no figure at all', {}],
  ])('is refused with %s, naming the field', (_what, metric) => {
    const parsed = withMetric(metric);
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]).toMatchObject({
      path: ['analysis', 'metrics', 0, 'query'],
      message: 'a metric has exactly one of query (PromQL), redis (a built-in figure) or probe',
    });
  });

  it('refuses a figure probes do not measure', () => {
    expect(withMetric({ probe: 'round-trip-p75-seconds' }).success).toBe(false);
  });
});
