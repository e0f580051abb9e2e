import { describe, expect, it } from 'vitest';
import { demoProblems, type DemoOutcome } from '../../../scripts/demo/demo-verdict.ts';

const clean: DemoOutcome['account'] = {
  sent: 100,
  accepted: 100,
  handled: 100,
  lost: [],
  handledTwice: [],
  refused: {},
};

const outcome = (over: Partial<DemoOutcome>): DemoOutcome => ({
  rollback: false,
  final: { phase: 'Succeeded' },
  account: clean,
  fault: undefined,
  verdictToSqsMs: undefined,
  ...over,
});

describe('whether the demo showed what it promises', () => {
  it.each([
    ['a migration that succeeded with a clean count', outcome({}), []],
    [
      'a rollback story that rolled back from the fault',
      outcome({ rollback: true, final: { phase: 'RolledBack' }, fault: 'slow link', verdictToSqsMs: 250 }),
      [],
    ],
    [
      'a migration that rolled back',
      outcome({ final: { phase: 'RolledBack', message: 'rolled back: gate failed' } }),
      ['the migration ended RolledBack, not Succeeded: rolled back: gate failed'],
    ],
    [
      'a migration that paused for a person',
      outcome({ final: { phase: 'Paused', message: 'metrics had no data' } }),
      ['the migration ended Paused, not Succeeded: metrics had no data'],
    ],
    [
      'a count with losses, doubles and refusals',
      outcome({ account: { ...clean, lost: ['a', 'b'], handledTwice: ['c'], refused: { '503': 2 } } }),
      ['2 lost', '1 handled twice', 'non-2xx answers: 503×2'],
    ],
    [
      'a rollback that came before the canary, so before the fault',
      outcome({ rollback: true, final: { phase: 'RolledBack' } }),
      [
        'the migration never ran a canary, so the fault was never injected',
        'the producers were not seen back on SQS',
      ],
    ],
  ] satisfies [string, DemoOutcome, string[]][])('%s', (_, given, expected) => {
    expect(demoProblems(given)).toEqual(expected);
  });
});
