import { describe, expect, it } from 'vitest';
import { readMigration } from '../../../../src/cli/plugin/status-fields.ts';
import { renderList, renderStatus, stageSpans } from '../../../../src/cli/plugin/status-view.ts';
import { CANARY_HISTORY, CANARY_STATUS } from './fixtures/canary-status.ts';

const NOW = Date.parse('2026-11-26T10:00:00Z');

function migration(
  status: unknown,
  extra: { paused?: boolean; annotations?: Record<string, string> } = {},
): unknown {
  return {
    metadata: {
      name: 'hooks',
      namespace: 'team-a',
      creationTimestamp: '2026-11-26T08:55:00Z',
      ...(extra.annotations !== undefined && { annotations: extra.annotations }),
    },
    spec: { paused: extra.paused ?? false },
    ...(status !== undefined && { status }),
  };
}

describe('the stage timeline', () => {
  it('spans each stage from its first history entry to the next stage, the current one until now', () => {
    expect(
      stageSpans(readMigration(migration({ history: CANARY_HISTORY })).status.history, 'Progressing', NOW),
    ).toEqual([
      { stage: 'dual', enteredAt: '2026-11-26T09:00:00Z', durationMs: 10 * 60_000, current: false },
      { stage: 'staging', enteredAt: '2026-11-26T09:10:00Z', durationMs: 15 * 60_000, current: false },
      { stage: 'canary', enteredAt: '2026-11-26T09:25:00Z', durationMs: 35 * 60_000, current: true },
    ]);
  });

  it('ends the last stage at its last transition once the migration stopped moving', () => {
    const spans = stageSpans(
      readMigration(migration({ history: CANARY_HISTORY })).status.history,
      'RolledBack',
      NOW,
    );
    expect(spans.at(-1)).toEqual({
      stage: 'canary',
      enteredAt: '2026-11-26T09:25:00Z',
      durationMs: 15 * 60_000,
      current: false,
    });
  });
});

describe('kubectl queueshift status', () => {
  it('shows phase, stage, timeline, gates with values and thresholds, conditions and pending controls', () => {
    const text = renderStatus(
      readMigration(
        migration(
          { ...CANARY_STATUS, lastHandledTokens: { promote: 'old' } },
          { paused: true, annotations: { 'queueshift.dev/promote': 'old', 'queueshift.dev/abort': 't-1' } },
        ),
      ),
      NOW,
    );
    expect(text).toContain('Phase:       Progressing\n');
    expect(text).toContain('Stage:       canary, step 1 (for 35m)\n');
    expect(text).toContain('Paused:      yes (spec.paused)\n');
    expect(text).toContain('Backlog:     12\n');
    expect(text).toContain('Requested:   abort (token t-1), not handled by the operator yet\n');
    expect(text).not.toContain('Requested:   promote');
    expect(text).toMatch(/\n {2}dual +2026-11-26T09:00:00Z +10m\n/);
    expect(text).toMatch(/\n {2}canary +2026-11-26T09:25:00Z +35m \(current\)\n/);
    // History in sequence order, whatever order status lists it in.
    expect(text.indexOf('step 1')).toBeLessThan(text.indexOf('step 2'));
    expect(text).toMatch(
      /analysis +redis-backlog +github-webhooks +failure +1200 +< 1000 +backlog above threshold/,
    );
    expect(text).toMatch(/GatesPassing +False +MetricFailed +2m +redis-backlog 1200 >= 1000/);
  });

  it('shows a migration the operator has not seen yet, without failing on absent fields', () => {
    const text = renderStatus(readMigration(migration(undefined)), NOW);
    expect(text).toContain('Phase:       Pending (not yet seen by the operator)\n');
    expect(text).toContain('Stage:       -\n');
    expect(text).toContain('\nStages:\n  no stage entered yet\n');
    expect(text).toContain('\nGates:\n  no verdicts yet\n');
    expect(text).toContain('\nConditions:\n  none\n');
  });

  it('skips fields and entries of an unexpected shape instead of showing nothing', () => {
    const text = renderStatus(
      readMigration(
        migration({
          phase: 'RollingBack',
          gates: 'not a list',
          history: ['garbage', { seq: 1, at: '2026-11-26T09:00:00Z', stage: 'dual', reason: 'DualStarted' }],
          rollback: {
            step: 'drain-redis',
            reason: 'backlog gate failed',
            stepStartedAt: '2026-11-26T09:59:00Z',
            failures: 2,
          },
        }),
      ),
      NOW,
    );
    expect(text).toContain('Phase:       RollingBack\n');
    expect(text).toContain('Rollback:    step drain-redis for 1m, failed 2 times\n');
    expect(text).toMatch(/DualStarted/);
    expect(text).toContain('\nGates:\n  no verdicts yet\n');
  });
});

describe('kubectl queueshift list', () => {
  it('prints one row per migration, with the namespace column only across namespaces', () => {
    const views = [
      readMigration(migration({ phase: 'Succeeded', stage: 'cleanup', step: 1 }, { paused: false })),
    ];
    const [header, row] = renderList(views, true, NOW).trimEnd().split('\n');
    expect(header?.split(/\s{2,}/)).toEqual([
      'NAMESPACE',
      'NAME',
      'PHASE',
      'STAGE',
      'STEP',
      'PAUSED',
      'BACKLOG',
      'ERROR RATE',
      'AGE',
      'MESSAGE',
    ]);
    expect(row?.split(/\s{2,}/)).toEqual([
      'team-a',
      'hooks',
      'Succeeded',
      'cleanup',
      '1',
      'no',
      '-',
      '-',
      '1h5m',
      '-',
    ]);
    expect(renderList(views, false, NOW).split('\n')[0]).toMatch(/^NAME /);
    expect(renderList([], false, NOW)).toBe('No QueueMigrations found.\n');
  });
});
