import { z } from 'zod';
import { withRules } from './cel-rule.ts';
import { duration, httpUrl, labelName, secretKeyRef } from './fields.ts';
import { STAGES } from './stages-schema.ts';

const limit = (what: string, fallback: number): z.ZodDefault<z.ZodNumber> =>
  z.number().int().min(0).max(1_000).default(fallback).describe(what);

/** Figures of the stream Redis that built-in metrics measure (see analysis/metric-catalog.ts). */
export const REDIS_MEASURES = [
  'backlog',
  'oldest-pending-age-seconds',
  'oldest-undelivered-age-seconds',
  'dead-letter-growth',
  'lost-to-trimming',
  'memory-headroom-percent',
  'missing-consumers',
] as const;
export type RedisMeasure = (typeof REDIS_MEASURES)[number];

/** Figures of an analysis round's synthetic probes (see analysis/providers/probe-provider.ts). */
export const PROBE_MEASURES = ['failed-probes', 'round-trip-p50-seconds', 'round-trip-p99-seconds'] as const;
export type ProbeMeasure = (typeof PROBE_MEASURES)[number];

const metric = withRules(
  z.object({
    name: labelName(
      'Name of the metric, as shown in status and Events. A metric named `error-rate` fills the ' +
        'Error Rate column of `kubectl get qm`.',
    ),
    query: z
      .string()
      .min(1)
      .max(4_096)
      .optional()
      .describe(
        'PromQL instant query, evaluated at the end of the pinned window; it must return one sample.',
      ),
    redis: z
      .enum(REDIS_MEASURES)
      .optional()
      .describe('A built-in figure of the stream Redis, read through the queue adapter.'),
    probe: z
      .enum(PROBE_MEASURES)
      .optional()
      .describe(
        'A figure of the round’s synthetic ping deliveries: how many a worker did not mark done in ' +
          'time, or their round trip from publish to done mark, in seconds.',
      ),
    threshold: z
      .object({
        operator: z.enum(['<', '<=', '>', '>=']).describe('How the value must compare to `value` to pass.'),
        value: z.number().describe('Threshold the value is compared to.'),
      })
      .describe('Passing condition: `<value> <operator> <threshold value>`.'),
    stages: z
      .array(z.enum(STAGES))
      .min(1)
      .max(STAGES.length)
      .describe('Stages where the metric applies; apply it only where traffic exists.'),
  }),
  [
    {
      cel: '(has(self.query) ? 1 : 0) + (has(self.redis) ? 1 : 0) + (has(self.probe) ? 1 : 0) == 1',
      holds: (value) => [value.query, value.redis, value.probe].filter((v) => v !== undefined).length === 1,
      message: 'a metric has exactly one of query (PromQL), redis (a built-in figure) or probe',
      fieldPath: '.query',
      reason: 'FieldValueInvalid',
    },
  ],
).describe('A metric with a threshold: a PromQL query, or a built-in figure of the stream Redis.');

export type MetricSettings = z.output<typeof metric>;

const probes = withRules(
  z.object({
    interval: duration(
      'Time between synthetic ping deliveries: each analysis round sends its share (the analysis ' +
        'interval divided by this, at least 1, at most 20) at once, each with a delivery id of its own',
      '1s',
      '30s',
    ),
    // Probes are checked across passes (status.analysis.probes); the timeout bounds how long a
    // failing round takes to judge.
    timeout: duration('How long a worker has to mark a probe’s delivery id done', '1s', '10s'),
    producerUrl: httpUrl(
      'Webhook URL of the producers; probes are then also sent there, signed, over HTTP.',
    ).optional(),
    webhookSecretRef: secretKeyRef('The webhook secret that signs probes sent to producerUrl.').optional(),
  }),
  [
    {
      cel: '!has(self.producerUrl) || has(self.webhookSecretRef)',
      holds: (value) => value.producerUrl === undefined || value.webhookSecretRef !== undefined,
      message: 'webhookSecretRef is required with producerUrl: probes sent over HTTP must be signed',
      fieldPath: '.webhookSecretRef',
      reason: 'FieldValueRequired',
    },
  ],
).describe('Synthetic ping deliveries; success = a worker marked the delivery id done in time.');

export const analysisSettings = withRules(
  z.object({
    interval: duration('Time between evaluations of every metric', '1s', '30s'),
    failureLimit: limit('Failed measurements tolerated before rolling back.', 0),
    inconclusiveLimit: limit('Inconclusive (no data) measurements tolerated before `inconclusivePolicy`.', 3),
    consecutiveErrorLimit: limit('Consecutive provider errors tolerated before rolling back.', 4),
    inconclusivePolicy: z
      .enum(['pause', 'rollback'])
      .default('pause')
      .describe('What happens past `inconclusiveLimit`: pause with a condition, or roll back.'),
    defaultMetrics: z
      .boolean()
      .default(true)
      .describe(
        'Gate on the built-in Redis metrics (backlog, entry ages, dead-letter growth, entries lost to ' +
          'trimming, memory headroom, missing consumers) with default thresholds, in the stages where ' +
          'traffic exists, and on synthetic probes in staging (probe-failures, probe-round-trip-p50, ' +
          'probe-round-trip-p99); a metric in `metrics` with the same name replaces the default.',
      ),
    prometheus: z
      .object({ url: httpUrl('Base URL of the Prometheus HTTP API.') })
      .optional()
      .describe('Prometheus that answers the PromQL metrics’ queries.'),
    metrics: z
      .array(metric)
      .max(20)
      .default([])
      .meta({
        description: 'Metrics with thresholds, evaluated every interval in the stages they name.',
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-list-map-keys': ['name'],
      }),
    probes: probes.prefault({}),
  }),
  [
    {
      cel: '!has(self.metrics) || !self.metrics.exists(m, has(m.query)) || has(self.prometheus)',
      holds: (value) => value.metrics.every((m) => m.query === undefined) || value.prometheus !== undefined,
      message: 'prometheus.url is required when PromQL metrics are defined',
      fieldPath: '.prometheus',
      reason: 'FieldValueRequired',
    },
  ],
).describe('How stages are gated on measurements.');

export type AnalysisSettings = z.output<typeof analysisSettings>;
