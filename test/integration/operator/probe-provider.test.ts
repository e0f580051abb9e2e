import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import {
  createConsumer,
  parseConsumerEnv,
  parseProducerEnv,
  pause,
  systemClock,
} from '../../../src/adapter/index.ts';
import { analysisSettings, type MetricSettings } from '../../../src/operator/api/analysis-schema.ts';
import { queueMigrationSpec } from '../../../src/operator/api/spec-schema.ts';
import type { QueueMigrationStatus } from '../../../src/operator/api/status-schema.ts';
import { analyse, type RoundReadings } from '../../../src/operator/analysis/analysis-engine.ts';
import {
  nextCheckAt,
  PROBE_CHECK_EVERY_MS,
  probeTiming,
} from '../../../src/operator/analysis/probe-round.ts';
import type { Reading } from '../../../src/operator/analysis/reading.ts';
import { AnalysisMeasurer, type MeasureTarget } from '../../../src/operator/controller/analysis-measurer.ts';
import { OperatorMetrics } from '../../../src/operator/controller/operator-metrics.ts';
import { AdapterQueueFigures } from '../../../src/operator/controller/queue-figures.ts';
import { roundClockOf } from '../../../src/operator/stages/analysis-step.ts';
import type { Envelope } from '../../../src/webhook/envelope.ts';
import { WebhookService } from '../../../src/webhook/webhook-service.ts';
import { handlerRoutes, routeByEvent } from '../../../src/worker/handler-router.ts';
import { ManualClock } from '../../support/manual-clock.ts';
import { freePort, LOOPBACK } from '../../env/ports.ts';
import { required } from '../../env/test-environment.ts';
import { waitUntil } from '../../env/wait.ts';
import { PrivateRedis } from '../services/fixtures/private-redis.ts';
import { decideOnRounds } from './round-decision.ts';

const INTERVAL_MS = 2_000;
const PROBE_TIMEOUT_MS = 2_000;
const STEP_STARTED = Date.parse('2026-11-26T10:00:00.000Z');
/** Round 1 of the staging step is due. */
const NOW = STEP_STARTED + INTERVAL_MS + 10;

const PROBE_METRICS = [
  { name: 'probe-failures', probe: 'failed-probes', threshold: { operator: '<=', value: 0 } },
  { name: 'probe-round-trip-p50', probe: 'round-trip-p50-seconds', threshold: { operator: '<=', value: 1 } },
  { name: 'probe-round-trip-p99', probe: 'round-trip-p99-seconds', threshold: { operator: '<=', value: 2 } },
].map((metric) => ({ ...metric, stages: ['staging'] }));

describe('probes measured by the operator against real Redis and a real worker', () => {
  const streams = required('redis').streams;
  const idempotency = required('redis').idempotency;
  const idempotencyAddress = `${idempotency.host}:${idempotency.port}`;
  const logger = pino({ level: 'silent' });
  const figures = new AdapterQueueFigures(logger);
  const measurer = new AnalysisMeasurer({
    figures,
    metrics: new OperatorMetrics(),
    clock: systemClock,
    timeoutMs: 2_000,
  });
  const admin = new Redis({ host: streams.host, port: streams.port });
  const streamsUsed: string[] = [];

  afterAll(async () => {
    if (streamsUsed.length > 0) await admin.del(...streamsUsed.flatMap((s) => [s, `${s}:dlq`]));
    await admin.quit();
    await figures.close();
  });

  /** A migration of its own (stream, group, key) in staging, round 1 due. */
  function migration(redisAddress = `${streams.host}:${streams.port}`) {
    const stream = `queueshift:test:probes:${randomUUID()}`;
    streamsUsed.push(stream);
    const spec = queueMigrationSpec.parse({
      producers: [{ name: 'webhook', container: 'webhook' }],
      consumers: [{ name: 'worker', container: 'worker' }],
      redis: { endpoint: { mode: 'standalone', address: redisAddress }, stream, group: 'workers' },
      sqs: { queueUrl: 'http://127.0.0.1:1/000000000000/unused', region: 'us-east-1' },
      analysis: {
        interval: '2s',
        defaultMetrics: false,
        metrics: PROBE_METRICS,
        probes: { interval: '1s', timeout: '2s' },
      },
    });
    const status: QueueMigrationStatus = {
      phase: 'Progressing',
      stage: 'staging',
      step: 0,
      stepStartedAt: new Date(STEP_STARTED).toISOString(),
      originals: [
        {
          deployment: 'worker',
          container: 'worker',
          role: 'consumer',
          env: [
            { name: 'QUEUE_TYPE', value: 'sqs' },
            { name: 'IDEMPOTENCY_REDIS_ADDRESS', value: idempotencyAddress },
          ],
        },
      ],
    };
    const key = `probes-${randomUUID().slice(0, 8)}/webhooks`;
    return { key, spec, status, stream };
  }

  /** The status the stage machine writes after a pass that measured `measured`. */
  function afterPass(
    target: Pick<MeasureTarget, 'spec' | 'status'>,
    measured: RoundReadings,
  ): QueueMigrationStatus {
    const clock = roundClockOf(target.spec, target.status);
    if (clock === undefined) throw new Error('the migration is in a step');
    const { status } = analyse({
      settings: target.spec.analysis,
      clock,
      previous: target.status.analysis,
      measured,
    });
    return { ...target.status, ...(status !== undefined && { analysis: status }) };
  }

  /**
   * Passes of the controller until the round is judged: the first sends the probes, each later one
   * (at the time the last one asked to be requeued) checks them once.
   */
  async function judgedRound(
    by: AnalysisMeasurer,
    target: Omit<MeasureTarget, 'readyConsumers'>,
  ): Promise<RoundReadings | undefined> {
    let pass: MeasureTarget = { ...target, readyConsumers: () => Promise.resolve([]) };
    for (;;) {
      const measured = await by.measureDue(pass, NOW);
      if (measured?.probes === undefined) return measured;
      const checkAt = nextCheckAt(measured.probes, Date.now(), probeTiming(pass.spec.analysis));
      await pause(systemClock, checkAt - Date.now());
      pass = { ...pass, status: afterPass(pass, measured) };
    }
  }

  async function measure(target: ReturnType<typeof migration>): Promise<ReadonlyMap<string, Reading>> {
    const measured = await judgedRound(measurer, target);
    if (measured === undefined) throw new Error('round 1 of staging is due');
    return new Map(
      PROBE_METRICS.map((m) => [m.name, measured.readings.get(m.name) ?? { kind: 'error', reason: 'none' }]),
    );
  }

  const readingOf = (readings: ReadonlyMap<string, Reading>, name: string): Reading => {
    const found = readings.get(name);
    if (found === undefined) throw new Error(`no reading of ${name}`);
    return found;
  };

  const metric = (name: string): MetricSettings => {
    const found = analysisSettings
      .parse({ defaultMetrics: false, metrics: PROBE_METRICS })
      .metrics.find((m) => m.name === name);
    if (found === undefined) throw new Error(`no metric ${name}`);
    return found;
  };

  /** The real worker pool with the worker's own handlers, reading the migration's stream. */
  async function withWorker(
    stream: string,
    work: (marked: readonly string[]) => Promise<void>,
    keyPrefix = 'queueshift:idem:',
  ): Promise<void> {
    const parsed = parseConsumerEnv({
      QUEUE_TYPE: 'redis',
      REDIS_ADDRESS: `${streams.host}:${streams.port}`,
      REDIS_STREAM_NAME: stream,
      REDIS_CONSUMER_GROUP: 'workers',
      REDIS_BLOCK_DURATION: '200ms',
      IDEMPOTENCY_REDIS_ADDRESS: idempotencyAddress,
      IDEMPOTENCY_KEY_PREFIX: keyPrefix,
      POD_NAME: 'probe-test-worker',
    });
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
    const worker = createConsumer(parsed.config, routeByEvent(handlerRoutes(`${stream}:ledger`)), { logger });
    const marked: string[] = [];
    worker.on('done-marked', ({ message }) => marked.push(message.deliveryId));
    const stop = new AbortController();
    const running = worker.run(stop.signal);
    try {
      await work(marked);
    } finally {
      stop.abort();
      await running;
      await worker.close();
    }
  }

  const expectRoundTrips = (readings: ReadonlyMap<string, Reading>): void => {
    for (const name of ['probe-round-trip-p50', 'probe-round-trip-p99']) {
      const reading = readingOf(readings, name);
      expect(reading.kind).toBe('value');
      const seconds = reading.kind === 'value' ? reading.value : -1;
      expect(seconds).toBeGreaterThan(0);
      expect(seconds).toBeLessThan(PROBE_TIMEOUT_MS / 1_000);
    }
  };

  it('succeed once a worker marks the probes done, with their round trip', async () => {
    const target = migration();
    await withWorker(target.stream, async (marked) => {
      const readings = await measure(target);
      expect(readings.get('probe-failures')).toMatchObject({ kind: 'value', value: 0 });
      expectRoundTrips(readings);
      // Dated from the done marks: below the first check (250 ms on), which bounded it before.
      const p50 = readingOf(readings, 'probe-round-trip-p50');
      expect(p50.kind === 'value' ? p50.value : Infinity).toBeLessThan(PROBE_CHECK_EVERY_MS / 1_000);
      // Two probes per round (interval 2s, probes every 1s), each a ping the worker marked done.
      expect(marked).toHaveLength(2);
      const prefix = `queueshift-probe-${target.key.replace('/', '.')}-1-`;
      expect(marked.every((id) => id.startsWith(prefix))).toBe(true);
      const entries = await admin.xrange(target.stream, '-', '+');
      expect(
        entries.map(
          ([, fields]) => (JSON.parse(fields[fields.indexOf('body') + 1] ?? '{}') as Envelope).event,
        ),
      ).toEqual(['ping', 'ping']);
      for (const m of PROBE_METRICS) {
        expect(decideOnRounds(metric(m.name), [readingOf(readings, m.name)]).kind).toBe('advance');
      }
    });
  });

  it('also go signed through the producers’ webhook, and find done marks under the consumers’ own prefix', async () => {
    const target = migration();
    const keyPrefix = `queueshift:test:probes:${randomUUID()}:`;
    const secret = `probe-secret-${randomUUID()}`;
    const port = await freePort();
    const producer = parseProducerEnv({
      QUEUE_TYPE: 'redis',
      REDIS_ADDRESS: `${streams.host}:${streams.port}`,
      REDIS_STREAM_NAME: target.stream,
    });
    if (!producer.ok) throw new Error(JSON.stringify(producer.problems));
    const webhook = new WebhookService({
      producer: producer.config,
      settings: {
        listen: { port, host: LOOPBACK },
        secret,
        path: '/webhook',
        maxBodyBytes: 1_000_000,
        shutdownDelayMs: 0,
      },
      logger,
    });
    const stopWebhook = new AbortController();
    const serving = webhook.run(stopWebhook.signal);
    // Stand in for the reads through the API server (probe-kube-reads.ts, exercised in the e2e tier).
    const secrets = new Map([['webhook-secret/token', secret]]);
    const withSecrets = new AnalysisMeasurer({
      figures,
      metrics: new OperatorMetrics(),
      clock: systemClock,
      timeoutMs: 2_000,
      probeReads: {
        readSecret: (_namespace, ref) => {
          const value = secrets.get(`${ref.name}/${ref.key}`);
          return value === undefined ? Promise.reject(new Error('no such Secret')) : Promise.resolve(value);
        },
        consumerEnv: () => Promise.resolve([{ name: 'IDEMPOTENCY_KEY_PREFIX', value: keyPrefix }]),
      },
    });
    try {
      await waitUntil(async () => (await fetch(`http://${LOOPBACK}:${port}/readyz`)).ok, {
        what: 'the webhook to be ready',
        timeoutMs: 10_000,
      });
      const spec = queueMigrationSpec.parse({
        ...target.spec,
        analysis: {
          ...target.spec.analysis,
          probes: {
            ...target.spec.analysis.probes,
            producerUrl: `http://${LOOPBACK}:${port}/webhook`,
            webhookSecretRef: { name: 'webhook-secret', key: 'token' },
          },
        },
      });
      await withWorker(
        target.stream,
        async (marked) => {
          const measured = await judgedRound(withSecrets, { ...target, spec });
          const readings = measured?.readings ?? new Map<string, Reading>();
          expect(readings.get('probe-failures')).toMatchObject({ kind: 'value', value: 0 });
          expectRoundTrips(readings);
          // The webhook checked the signature (401 otherwise) and published the third probe.
          expect(marked).toHaveLength(3);
        },
        keyPrefix,
      );
      secrets.set('webhook-secret/token', 'a-rotated-secret-the-webhook-does-not-know');
      const refused = await judgedRound(withSecrets, { ...target, spec });
      expect(refused?.readings.get('probe-failures')).toMatchObject({
        kind: 'error',
        reason: expect.stringMatching(/\(http\) could not be published: .* answered 401/) as unknown,
      });
    } finally {
      stopWebhook.abort();
      await serving;
    }
  });

  it('fail when no worker marks them done within the timeout', async () => {
    const target = migration();
    const started = Date.now();
    const readings = await measure(target);
    expect(Date.now() - started).toBeGreaterThanOrEqual(PROBE_TIMEOUT_MS);
    expect(readings.get('probe-failures')).toMatchObject({ kind: 'value', value: 2 });
    expect(readings.get('probe-round-trip-p99')).toEqual({
      kind: 'no-data',
      reason: 'no probe was marked done within 2s',
    });
    // Published, so in the stream: an acknowledgement would not have made them succeed either.
    expect(await admin.xlen(target.stream)).toBe(2);
    expect(decideOnRounds(metric('probe-failures'), [readingOf(readings, 'probe-failures')])).toMatchObject({
      kind: 'rollback',
      reason: expect.stringContaining('metric probe-failures failed: value 2, threshold <= 0') as unknown,
    });
    expect(
      decideOnRounds(metric('probe-round-trip-p99'), [readingOf(readings, 'probe-round-trip-p99')]).kind,
    ).toBe('pause');
  });

  it('hold no pass while waiting: sent at once, checked by later passes, failed only past the timeout', async () => {
    const target = migration();
    const clock = new ManualClock(Date.parse('2026-11-26T10:00:05.000Z'));
    const measurerOn = (): AnalysisMeasurer =>
      new AnalysisMeasurer({ figures, metrics: new OperatorMetrics(), clock, timeoutMs: 2_000 });
    const pass = async (by: AnalysisMeasurer, status: QueueMigrationStatus) => {
      const started = performance.now();
      const measured = await by.measureDue(
        { ...target, status, readyConsumers: () => Promise.resolve([]) },
        NOW,
      );
      if (measured === undefined) throw new Error('round 1 of staging is due');
      return { measured, tookMs: performance.now() - started };
    };

    // No worker runs: the sending pass returns as soon as Redis accepted the probes.
    const sent = await pass(measurerOn(), target.status);
    expect(sent.tookMs).toBeLessThan(PROBE_TIMEOUT_MS / 4);
    const ids = sent.measured.probes?.probes.map((p) => p.deliveryId) ?? [];
    expect(ids).toHaveLength(2);
    expect(sent.measured.probes).toMatchObject({ round: 1, sentAt: new Date(clock.now()).toISOString() });
    expect(await admin.xlen(target.stream)).toBe(2);
    let status = afterPass(target, sent.measured);
    expect(status.analysis?.round).toBe(0);

    // A restarted operator (a new measurer) checks the probes status names, sending none.
    await clock.advance(PROBE_TIMEOUT_MS - 1);
    const early = await pass(measurerOn(), status);
    expect(early.tookMs).toBeLessThan(PROBE_TIMEOUT_MS / 4);
    expect(early.measured.probes?.probes.map((p) => p.deliveryId)).toEqual(ids);
    const pendingProbes = early.measured.probes;
    if (pendingProbes === undefined) throw new Error('the probes are still pending');
    expect(nextCheckAt(pendingProbes, clock.now(), probeTiming(target.spec.analysis))).toBe(clock.now() + 1);
    expect(await admin.xlen(target.stream)).toBe(2);
    status = afterPass({ ...target, status }, early.measured);

    await clock.advance(1);
    const late = await pass(measurerOn(), status);
    expect(late.measured.probes).toBeUndefined();
    const failures = late.measured.readings.get('probe-failures');
    expect(failures).toMatchObject({ kind: 'value', value: 2 });
    expect(failures?.kind === 'value' && failures.detail).toBe(
      `not marked done within 2s: ${ids.join(', ')}`,
    );
    const counted = afterPass({ ...target, status }, late.measured);
    expect(counted.analysis).toMatchObject({ round: 1 });
    expect(counted.analysis?.probes).toBeUndefined();
  });

  it('are an error when the stream Redis is stopped and nothing can be published', async () => {
    const redis = await PrivateRedis.start();
    try {
      const target = migration(redis.address);
      await redis.kill();
      const readings = await measure(target);
      for (const m of PROBE_METRICS) {
        const reading = readings.get(m.name);
        expect(reading?.kind).toBe('error');
        expect(reading?.kind === 'error' && reading.reason).toMatch(
          /^probe queueshift-probe-.* \(stream\) could not be published: /,
        );
      }
      expect(decideOnRounds(metric('probe-failures'), [readingOf(readings, 'probe-failures')]).kind).toBe(
        'rollback',
      );
    } finally {
      await redis.dispose();
    }
  });
});
