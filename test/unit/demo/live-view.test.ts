import { describe, expect, it } from 'vitest';
import type { QueueMigrationStatus } from '../../../src/operator/api/status-schema.ts';
import {
  liveBlock,
  stageProgress,
  transitionKey,
  transitionLine,
  type LiveSnapshot,
} from '../../../scripts/demo/live-view.ts';

const canary: QueueMigrationStatus = {
  phase: 'Progressing',
  stage: 'canary',
  step: 0,
  message: 'canary step 1: waiting 4s more with gates green',
  backlog: 12,
  errorRate: '0.000',
};

const snapshot = (
  status: QueueMigrationStatus | undefined,
  extra: Partial<LiveSnapshot> = {},
): LiveSnapshot => ({
  status,
  canarySteps: 2,
  counts: { sent: 1240, accepted: 1234, refused: 0, handled: 1200 },
  elapsedMs: 83_400,
  ...extra,
});

describe('the demo’s live view of a migration', () => {
  it.each([
    ['before the operator wrote a status', undefined, 'dual → staging → canary → full → cleanup'],
    ['in a canary step', canary, '✓ dual → ✓ staging → ▶ canary 1/2 → full → cleanup'],
    [
      'after success',
      { phase: 'Succeeded', stage: 'cleanup' },
      '✓ dual → ✓ staging → ✓ canary → ✓ full → ✓ cleanup',
    ],
    [
      'while rolling back from canary',
      { ...canary, phase: 'RollingBack' },
      '✓ dual → ✓ staging → ✗ canary 1/2 → full → cleanup',
    ],
  ] satisfies [string, QueueMigrationStatus | undefined, string][])(
    'shows the stages %s',
    (_, status, expected) => {
      expect(stageProgress(status, 2)).toBe(expected);
    },
  );

  it('draws stage, what it waits for, queue figures and deliveries in a compact block', () => {
    expect(liveBlock(snapshot(canary))).toEqual([
      'queueshift demo  01:23  phase Progressing',
      '  stages      ✓ dual → ✓ staging → ▶ canary 1/2 → full → cleanup',
      '  now         canary step 1: waiting 4s more with gates green',
      '  queue       backlog 12 · error rate 0.000',
      '  deliveries  sent 1240 · accepted 1234 · handled 1200',
    ]);
  });

  it('shows refused deliveries once there are any', () => {
    const refusing = snapshot(canary, { counts: { sent: 1240, accepted: 1200, refused: 34, handled: 1190 } });
    expect(liveBlock(refusing)[4]).toBe(
      '  deliveries  sent 1240 · accepted 1200 · refused 34 · handled 1190',
    );
  });

  it('says an unmeasured backlog is unknown, never 0', () => {
    expect(liveBlock(snapshot({ phase: 'Progressing', stage: 'dual' }))[3]).toBe(
      '  queue       backlog unknown · error rate not measured',
    );
  });

  it('adds the rollback step with its reason and the injected fault', () => {
    const rollingBack: QueueMigrationStatus = {
      ...canary,
      phase: 'RollingBack',
      rollback: {
        step: 'drain-redis',
        reason: 'gate failed: metric p99 failed',
        startedAt: '2026-01-01T00:00:00Z',
        stepStartedAt: '2026-01-01T00:00:01Z',
        fromStep: 1,
        failures: 0,
      },
    };
    expect(
      liveBlock(snapshot(rollingBack, { fault: 'stream Redis link slowed by 300 ms' })).slice(5),
    ).toEqual([
      '  rollback    drain-redis (gate failed: metric p99 failed)',
      '  fault       stream Redis link slowed by 300 ms',
    ]);
  });

  it('prints one line per transition, and only the transition changes its key', () => {
    const first = snapshot(canary);
    const moreDeliveries = snapshot(canary, {
      counts: { sent: 2010, accepted: 2000, refused: 0, handled: 1990 },
      elapsedMs: 90_000,
    });
    const nextStage = snapshot({ ...canary, stage: 'full', step: 0, message: 'producers to redis' });

    expect(transitionKey(moreDeliveries)).toBe(transitionKey(first));
    expect(transitionKey(nextStage)).not.toBe(transitionKey(first));
    expect(transitionLine(first)).toBe(
      '[01:23] Progressing canary 1/2 — canary step 1: waiting 4s more with gates green ' +
        '(backlog 12 · error rate 0.000; sent 1240 · accepted 1234 · handled 1200)',
    );
  });
});
