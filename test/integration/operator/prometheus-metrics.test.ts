import { describe, expect, it } from 'vitest';
import { systemClock } from '../../../src/adapter/clock.ts';
import type { MetricSettings } from '../../../src/operator/api/analysis-schema.ts';
import { PrometheusProvider } from '../../../src/operator/analysis/providers/prometheus-provider.ts';
import type { Reading } from '../../../src/operator/analysis/reading.ts';
import { freePort } from '../../env/ports.ts';
import { required } from '../../env/test-environment.ts';
import { decideOnRounds } from './round-decision.ts';

const errorRate = (query: string): MetricSettings => ({
  name: 'error-rate',
  query,
  threshold: { operator: '<', value: 0.05 },
  stages: ['canary'],
});

async function read(url: string, metric: MetricSettings, at = Date.now()): Promise<Reading> {
  const provider = new PrometheusProvider({ url, clock: systemClock, timeoutMs: 5_000 });
  const readings = await provider.measure([metric], {
    window: { start: at - 10_000, end: at },
    readyConsumers: [],
  });
  return readings.get(metric.name) ?? { kind: 'error', reason: 'no reading' };
}

describe('PromQL metrics against the environment’s Prometheus', () => {
  const url = (): string => required('prometheus').url;

  it.each([
    {
      what: 'a value under the threshold advances',
      query: 'vector(0.01)',
      reading: { kind: 'value', value: 0.01 },
      decision: 'advance',
    },
    {
      what: 'a value over the threshold rolls back',
      query: 'vector(0.3)',
      reading: { kind: 'value', value: 0.3 },
      decision: 'rollback',
    },
    {
      what: 'no sample is inconclusive and pauses',
      query: 'queueshift_no_such_series{test="analysis"}',
      reading: { kind: 'no-data', reason: 'the query returned no sample' },
      decision: 'pause',
    },
    {
      what: 'NaN (0/0) is no data, never success',
      query: 'vector(0) / vector(0)',
      reading: { kind: 'value' },
      decision: 'pause',
    },
    {
      what: 'several samples is a query to fix: an error',
      query: 'label_replace(vector(1), "a", "x", "", "") or label_replace(vector(2), "a", "y", "", "")',
      reading: { kind: 'error', reason: 'the query returned 2 samples; it must return one' },
      decision: 'rollback',
    },
  ])('$what', async ({ query, reading, decision }) => {
    const measured = await read(url(), errorRate(query));
    expect(measured).toMatchObject(reading);
    expect(decideOnRounds(errorRate(query), [measured]).kind).toBe(decision);
  });

  it('evaluates at the end of the pinned window, so the same round asks about the same moment', async () => {
    const at = Date.parse('2026-01-01T00:00:00.000Z');
    expect(await read(url(), errorRate('time()'), at)).toEqual({ kind: 'value', value: at / 1_000 });
  });

  it('names the refusal of a malformed query as an error', async () => {
    const measured = await read(url(), errorRate('sum(rate('));
    expect(measured).toMatchObject({
      kind: 'error',
      reason: expect.stringMatching(/^Prometheus refused the query: .*parse error/) as string,
    });
  });

  it('an unreachable Prometheus is a provider error, which rolls back past the consecutive error limit', async () => {
    // A port nothing listens on: the shared Prometheus keeps running for everyone else.
    const closed = `http://127.0.0.1:${await freePort()}`;
    const measured = await read(closed, errorRate('vector(0.01)'));
    expect(measured).toMatchObject({
      kind: 'error',
      reason: expect.stringMatching(/unreachable: fetch failed: .*ECONNREFUSED/) as string,
    });
    expect(decideOnRounds(errorRate('vector(0.01)'), [measured])).toMatchObject({
      kind: 'rollback',
      reason: expect.stringContaining('1 consecutive provider errors (limit 0)') as string,
    });
  });
});
