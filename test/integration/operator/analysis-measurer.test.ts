import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../../src/adapter/clock.ts';
import { queueMigrationSpec } from '../../../src/operator/api/spec-schema.ts';
import type { QueueMigrationStatus } from '../../../src/operator/api/status-schema.ts';
import { AnalysisMeasurer } from '../../../src/operator/controller/analysis-measurer.ts';
import { OperatorMetrics } from '../../../src/operator/controller/operator-metrics.ts';
import { AdapterQueueFigures } from '../../../src/operator/controller/queue-figures.ts';
import { required } from '../../env/test-environment.ts';

const INTERVAL_MS = 10_000;
const NOW = Date.parse('2026-11-26T10:00:15.000Z');

describe('the operator measuring a due analysis round against the real stream Redis', () => {
  const { host, port } = required('redis').streams;
  const stream = `queueshift:test:measurer:${randomUUID()}`;
  const figures = new AdapterQueueFigures(pino({ level: 'silent' }));
  const metrics = new OperatorMetrics();
  const measurer = new AnalysisMeasurer({ figures, metrics, clock: systemClock, timeoutMs: 2_000 });
  const admin = new Redis({ host, port });

  afterAll(async () => {
    await admin.del(stream, `${stream}:dlq`);
    await admin.quit();
    await figures.close();
  });

  const spec = (redis: Record<string, unknown> = {}) =>
    queueMigrationSpec.parse({
      producers: [{ name: 'webhook', container: 'webhook' }],
      consumers: [{ name: 'worker', container: 'worker' }],
      redis: {
        endpoint: { mode: 'standalone', address: `${host}:${port}` },
        stream,
        group: 'workers',
        ...redis,
      },
      sqs: { queueUrl: 'http://127.0.0.1:1/000000000000/unused', region: 'us-east-1' },
      analysis: { interval: '10s' },
    });
  const canary = (stepStartedAt: number): QueueMigrationStatus => ({
    phase: 'Progressing',
    stage: 'canary',
    step: 0,
    stepStartedAt: new Date(stepStartedAt).toISOString(),
  });

  it('measures the round that is due, over its pinned window, and exports the stream gauges', async () => {
    await admin.xgroup('CREATE', stream, 'workers', '0', 'MKSTREAM');
    for (let i = 0; i < 3; i++) await admin.xadd(stream, '*', 'delivery', `d-${i}`);
    let asked = 0;
    const measured = await measurer.measureDue(
      {
        key: 'team/webhooks',
        spec: spec(),
        status: canary(NOW - 15_000),
        readyConsumers: () => {
          asked += 1;
          return Promise.resolve([]);
        },
      },
      NOW,
    );
    expect(measured?.due).toEqual({ round: 1, window: { start: NOW - 15_000, end: NOW - 5_000 } });
    expect(measured?.readings.get('redis-backlog')).toMatchObject({ kind: 'value', value: 3 });
    expect(measured?.readings.get('redis-lost-to-trimming')).toEqual({ kind: 'value', value: 0 });
    expect(measured?.readings.get('redis-missing-consumers')).toEqual({
      kind: 'not-yet',
      reason: 'no consumer pod has read Redis long enough to be in the group',
    });
    expect(asked).toBe(1);
    const text = await metrics.registry.metrics();
    expect(text).toContain(
      `redis_stream_length{migration="team/webhooks",stream="${stream}",group="workers"} 3`,
    );
    expect(text).toContain(
      `redis_stream_consumer_lag{migration="team/webhooks",stream="${stream}",group="workers"} 3`,
    );
  });

  it('measures nothing before the first interval of the step ends, nor while not progressing, nor in a dry run', async () => {
    const target = { key: 'team/webhooks', spec: spec(), readyConsumers: () => Promise.resolve([]) };
    expect(
      await measurer.measureDue({ ...target, status: canary(NOW - INTERVAL_MS + 1) }, NOW),
    ).toBeUndefined();
    expect(
      await measurer.measureDue(
        { ...target, status: { ...canary(NOW - 15_000), phase: 'RollingBack' } },
        NOW,
      ),
    ).toBeUndefined();
    expect(
      await measurer.measureDue(
        { ...target, spec: { ...spec(), dryRun: true }, status: canary(NOW - 15_000) },
        NOW,
      ),
    ).toBeUndefined();
  });

  it('reads Redis metrics as no data, with the reason, while the Secrets they need are unread', async () => {
    const measured = await measurer.measureDue(
      {
        key: 'team/secret',
        spec: spec({ passwordSecretRef: { name: 'redis-auth', key: 'password' } }),
        status: canary(NOW - 15_000),
        readyConsumers: () => Promise.resolve(['worker-0']),
      },
      NOW,
    );
    expect(measured?.readings.get('redis-backlog')).toEqual({
      kind: 'no-data',
      reason: expect.stringContaining('SECRETS_UNREAD: the Secrets of spec.redis are not read yet') as string,
    });
  });
});
