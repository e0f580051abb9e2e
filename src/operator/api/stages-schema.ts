import { z } from 'zod';
import { withRules } from './cel-rule.ts';
import { duration, objectName } from './fields.ts';

export const STAGES = ['dual', 'staging', 'canary', 'full', 'cleanup'] as const;
export type StageName = (typeof STAGES)[number];

const approval = z
  .boolean()
  .default(false)
  .describe('Wait for a `queueshift.dev/promote` token before leaving, once everything else passed.');

const canaryStep = z
  .object({
    weight: z
      .number()
      .int()
      .min(1)
      .max(99)
      .describe(
        'Share of producer pods, in percent, that run as canaries publishing to Redis. The Service ' +
          'spreads traffic by pod, so the share of traffic follows.',
      ),
    duration: duration('How long this step’s gates must stay green', '1s', '10m'),
    approval,
  })
  .describe('One canary step.');

export type CanaryStep = z.output<typeof canaryStep>;

const canarySteps = withRules(
  z
    .array(canaryStep)
    .min(1)
    .max(10)
    .default([
      { weight: 10, duration: '10m', approval: false },
      { weight: 50, duration: '10m', approval: false },
    ]),
  [
    {
      cel: 'self.map(s, s.weight).isSorted() && self.all(s, self.exists_one(t, t.weight == s.weight))',
      holds: (steps) => steps.every((step, i) => i === 0 || (steps[i - 1]?.weight ?? 0) < step.weight),
      message: 'canary step weights must increase from one step to the next',
    },
  ],
).describe('Canary steps, in order; weights increase.');

export const stagesSettings = z
  .object({
    dual: z
      .object({
        duration: duration(
          'How long gates must stay green after every consumer reads both queues',
          '1s',
          '10m',
        ),
        approval,
      })
      .prefault({})
      .describe('Consumers read SQS and Redis; producers still publish to SQS, with Redis as fallback.'),
    staging: z
      .object({
        duration: duration('How long probes and gates must stay green', '1s', '10m'),
        approval,
        rehearsal: objectName(
          'A QueueMigration in the same namespace (the rehearsal on a staging system) that must have ' +
            'Succeeded before this stage passes.',
        ).optional(),
      })
      .prefault({})
      .describe('Rehearsal: synthetic probes through the stream before any producer switches.'),
    canary: z
      .object({ steps: canarySteps })
      .prefault({})
      .describe('Canary copies of each producer publish to Redis, step by step.'),
    full: z
      .object({
        bakeTime: duration('How long gates must stay green once consumers read only Redis', '1s', '30m'),
        drainWindow: duration(
          'How long SQS must read empty, in samples spanning this window, before consumers leave it',
          '1s',
          '1m',
        ),
        approval,
      })
      .prefault({})
      .describe('Producers publish to Redis; once SQS is drained, consumers read only Redis.'),
    cleanup: z
      .object({
        stabilityWindow: duration('How long to wait before removing the SQS fallback', '1s', '24h'),
        deleteQueue: z
          .boolean()
          .default(false)
          .describe('Delete the SQS queue once drained (never by default).'),
      })
      .prefault({})
      .describe('After the stability window: final sweep of SQS, fallback removed.'),
  })
  .describe('Per-stage settings. Each stage is entered only when the previous one passed.');

export type StagesSettings = z.output<typeof stagesSettings>;
