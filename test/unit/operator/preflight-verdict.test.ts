import { describe, expect, it } from 'vitest';
import { queueMigrationSpec, type QueueMigrationSpec } from '../../../src/operator/api/spec-schema.ts';
import type { PreflightFacts } from '../../../src/operator/preflight/preflight-facts.ts';
import { preflightChecks, preflightStatus } from '../../../src/operator/preflight/preflight-verdict.ts';
import { minimalSpec } from './fixtures/migrations.ts';
import { HEALTHY_REDIS, PASSING_PREFLIGHT } from './preflight-fixtures.ts';

const spec = (stabilityWindow = '1h'): QueueMigrationSpec =>
  queueMigrationSpec.parse({ ...minimalSpec(), stages: { cleanup: { stabilityWindow } } });

const withRedis = (change: Partial<typeof HEALTHY_REDIS>): PreflightFacts => ({
  ...PASSING_PREFLIGHT,
  redis: { known: true, value: { ...HEALTHY_REDIS, ...change } },
});

/** The outcome of one named check. */
function outcome(facts: PreflightFacts, name: string, window?: string): { outcome: string; message: string } {
  const check = preflightChecks(spec(window), facts).find((c) => c.name === name);
  if (check === undefined) throw new Error(`no check ${name}`);
  return check;
}

describe('the dual preflight verdict', () => {
  it('passes a healthy setting, with every check ok and pinned by passedAt', () => {
    const status = preflightStatus(spec(), PASSING_PREFLIGHT, '2026-11-26T10:00:00.000Z');
    expect(status.passedAt).toBe('2026-11-26T10:00:00.000Z');
    expect(status.checks.map((c) => [c.name, c.outcome])).toEqual([
      ['redis-reachable', 'ok'],
      ['redis-eviction-policy', 'ok'],
      ['redis-persistence', 'ok'],
      ['redis-memory-headroom', 'ok'],
      ['redis-stream-group', 'ok'],
      ['sqs-queue', 'ok'],
      ['sqs-retention', 'ok'],
      ['consumer-autoscalers', 'ok'],
    ]);
  });

  it.each<{ what: string; facts: PreflightFacts; check: string; outcome: string; says: RegExp }>([
    {
      what: 'an eviction policy other than noeviction fails',
      facts: withRedis({ maxmemoryPolicy: { known: true, value: 'allkeys-lru' } }),
      check: 'redis-eviction-policy',
      outcome: 'failed',
      says: /allkeys-lru.*set maxmemory-policy noeviction/,
    },
    {
      // Managed Redis ACLs refuse CONFIG: unknown is reported, not treated as unsafe.
      what: 'an eviction policy the server will not tell is a warning',
      facts: withRedis({ maxmemoryPolicy: { known: false, reason: 'NOPERM CONFIG' } }),
      check: 'redis-eviction-policy',
      outcome: 'warning',
      says: /unknown \(NOPERM CONFIG\)/,
    },
    {
      what: 'persistence that can lose everything since the last snapshot is a warning',
      facts: withRedis({
        lossOnRestart: { known: true, value: { kind: 'unbounded', why: 'no AOF and no RDB save points' } },
      }),
      check: 'redis-persistence',
      outcome: 'warning',
      says: /no AOF and no RDB/,
    },
    {
      what: 'memory headroom below the analysis threshold is a warning',
      facts: withRedis({ memoryHeadroom: { kind: 'value', value: 5 } }),
      check: 'redis-memory-headroom',
      outcome: 'warning',
      says: /value 5 fails threshold >= 20/,
    },
    {
      what: 'a dry run that found no group yet passes, saying it would create it',
      facts: withRedis({ streamAndGroup: { known: true, value: 'would-create' } }),
      check: 'redis-stream-group',
      outcome: 'ok',
      says: /^dry run: group webhook-workers on stream github-webhooks would be created from id 0$/,
    },
    {
      what: 'a group that cannot be created fails',
      facts: withRedis({ streamAndGroup: { known: false, reason: 'NOPERM xgroup' } }),
      check: 'redis-stream-group',
      outcome: 'failed',
      says: /NOPERM xgroup/,
    },
    {
      what: 'an unreachable Redis fails and says where to look',
      facts: {
        ...PASSING_PREFLIGHT,
        redis: { known: false, reason: 'WRONGPASS invalid username-password pair' },
      },
      check: 'redis-reachable',
      outcome: 'failed',
      says: /WRONGPASS.*passwordSecretRef and tls/,
    },
    {
      what: 'a FIFO queue fails',
      facts: {
        ...PASSING_PREFLIGHT,
        sqs: { known: false, reason: 'SQS_FIFO_QUEUE: FIFO queues are not supported' },
      },
      check: 'sqs-queue',
      outcome: 'failed',
      says: /FIFO queues are not supported/,
    },
    {
      what: 'the adapter’s redrive findings are warnings',
      facts: {
        ...PASSING_PREFLIGHT,
        sqs: { known: true, value: { retentionSeconds: 345_600, warnings: ['no redrive policy'] } },
      },
      check: 'sqs-queue',
      outcome: 'warning',
      says: /no redrive policy/,
    },
    {
      what: 'a retention no longer than the stability window fails',
      facts: { ...PASSING_PREFLIGHT, sqs: { known: true, value: { retentionSeconds: 3_600, warnings: [] } } },
      check: 'sqs-retention',
      outcome: 'failed',
      says: /MessageRetentionPeriod 3600s is not longer than the stability window 1h/,
    },
    {
      what: 'an autoscaler on a consumer is a warning naming it and its metric',
      facts: {
        ...PASSING_PREFLIGHT,
        autoscalers: {
          known: true,
          value: [{ name: 'worker-hpa', deployment: 'worker', metrics: ['sqs_messages_visible'] }],
        },
      },
      check: 'consumer-autoscalers',
      outcome: 'warning',
      says: /worker-hpa scales worker on sqs_messages_visible/,
    },
    {
      what: 'autoscalers that cannot be listed are a warning',
      facts: { ...PASSING_PREFLIGHT, autoscalers: { known: false, reason: 'KUBE_API_FORBIDDEN' } },
      check: 'consumer-autoscalers',
      outcome: 'warning',
      says: /KUBE_API_FORBIDDEN/,
    },
  ])('$what', ({ facts, check, outcome: expected, says }) => {
    const found = outcome(facts, check);
    expect(found.outcome).toBe(expected);
    expect(found.message).toMatch(says);
  });

  it('judges retention against the spec’s stability window', () => {
    const facts: PreflightFacts = {
      ...PASSING_PREFLIGHT,
      sqs: { known: true, value: { retentionSeconds: 3_600, warnings: [] } },
    };
    expect(outcome(facts, 'sqs-retention', '59m').outcome).toBe('ok');
    expect(outcome(facts, 'sqs-retention', '60m').outcome).toBe('failed');
  });

  it('skips the other Redis checks when Redis is unreachable, and does not pass', () => {
    const status = preflightStatus(
      spec(),
      { ...PASSING_PREFLIGHT, redis: { known: false, reason: 'ECONNREFUSED' } },
      '2026-11-26T10:00:00.000Z',
    );
    expect(status.passedAt).toBeUndefined();
    expect(status.checks.filter((c) => c.name.startsWith('redis-')).map((c) => c.name)).toEqual([
      'redis-reachable',
    ]);
  });

  it('passes with warnings: only a failed check blocks', () => {
    const status = preflightStatus(
      spec(),
      withRedis({ maxmemoryPolicy: { known: false, reason: 'NOPERM' } }),
      '2026-11-26T10:00:00.000Z',
    );
    expect(status.passedAt).toBeDefined();
  });
});
