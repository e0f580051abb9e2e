import { describe, expect, it } from 'vitest';
import type { Action } from '../../../src/operator/stages/actions.ts';
import { SWEEP_BATCH } from '../../../src/operator/stages/progression.ts';
import { fastSpec, reasons, SimulatedDeployments } from './stages/simulated-deployments.ts';

const EMPTY = { queue: { known: true, value: 0 }, deadLetters: { known: true, value: 0 } } as const;
const QUEUE_URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/github-webhooks';

function lastActions(sim: SimulatedDeployments): Action[] {
  return sim.decisions.at(-1)?.actions ?? [];
}

function sweeps(sim: SimulatedDeployments): Extract<Action, { kind: 'sweepSqs' }>[] {
  return lastActions(sim).filter((a) => a.kind === 'sweepSqs');
}

const deletions = (sim: SimulatedDeployments): number =>
  sim.decisions.flatMap((d) => d.actions).filter((a) => a.kind === 'deleteSqsQueue').length;

/** A migration with every wait of one to ten seconds, run until it reaches `stage`/`step`. */
async function migrationAt(
  stage: 'full' | 'cleanup',
  step: number,
  deleteQueue = false,
): Promise<SimulatedDeployments> {
  const spec = fastSpec();
  const sim = new SimulatedDeployments({
    ...spec,
    stages: { ...spec.stages, cleanup: { ...spec.stages.cleanup, deleteQueue } },
  });
  sim.sqsRemainder = EMPTY;
  await sim.pass();
  await sim.runUntil(() => sim.status.stage === stage && sim.status.step === step);
  return sim;
}

describe('sweeps of SQS once consumers read only Redis', () => {
  it('sweeps nothing while consumers still read SQS (full step 0), whatever SQS holds', async () => {
    const sim = await migrationAt('full', 0);
    sim.sqsRemainder = { queue: { known: true, value: 5 }, deadLetters: { known: true, value: 2 } };
    sim.sqsDepth = { known: true, value: 5 };
    await sim.run(3);
    expect(sim.decisions.slice(-3).flatMap((d) => d.actions.filter((a) => a.kind === 'sweepSqs'))).toEqual(
      [],
    );
  });

  it('asks for one bounded sweep per pass while the queue or its DLQ holds anything, and looks again soon', async () => {
    const sim = await migrationAt('full', 1);
    sim.sqsRemainder = { queue: { known: true, value: 3 }, deadLetters: 'none' };
    await sim.run(1);
    expect(sweeps(sim)).toEqual([
      {
        kind: 'sweepSqs',
        maxMessages: SWEEP_BATCH,
        counted: { movedFromQueue: 0, movedFromDeadLetterQueue: 0 },
        at: new Date(sim.now).toISOString(),
      },
    ]);
    expect(sim.decisions.at(-1)?.requeueAfterMs).toBe(1_000);

    // The executor adds what each sweep moved to status; the next sweep starts from those counts.
    sim.status = { ...sim.status, sweep: { movedFromQueue: 3, movedFromDeadLetterQueue: 0 } };
    sim.sqsRemainder = { queue: { known: true, value: 0 }, deadLetters: { known: true, value: 2 } };
    await sim.run(1);
    expect(sweeps(sim)).toMatchObject([{ counted: { movedFromQueue: 3, movedFromDeadLetterQueue: 0 } }]);

    sim.sqsRemainder = EMPTY;
    await sim.run(1);
    expect(sweeps(sim)).toEqual([]);
  });

  it('does not sweep blind: an unknown depth asks for no sweep', async () => {
    const sim = await migrationAt('cleanup', 0);
    sim.sqsRemainder = {
      queue: { known: false, reason: 'SQS unreachable' },
      deadLetters: { known: false, reason: 'SQS unreachable' },
    };
    await sim.run(1);
    expect(sweeps(sim)).toEqual([]);
  });
});

describe('cleanup’s final sweep', () => {
  it('ends cleanup only once SQS and its DLQ read empty over the drain window after the producers rolled out', async () => {
    const sim = await migrationAt('cleanup', 0);
    // Producers are still rolling out without the fallback: an old pod may publish to SQS yet.
    sim.autoRollout = false;
    await sim.runUntil(() => sim.status.step === 1);
    await sim.run(120);
    expect(sim.status).toMatchObject({ phase: 'Progressing', stage: 'cleanup', step: 1 });
    expect(sim.status.sqsEmptySince).toBeUndefined();

    sim.autoRollout = true;
    sim.finishRollouts();
    sim.sqsRemainder = { queue: { known: true, value: 0 }, deadLetters: { known: true, value: 4 } };
    await sim.run(1);
    expect(sim.status.message).toContain(
      'the final sweep: SQS and its dead-letter queue to read empty for 60s (dead-letter queue depth 4)',
    );
    expect(sweeps(sim)).toHaveLength(1);

    sim.sqsRemainder = EMPTY;
    await sim.run(1);
    const emptySince = Date.parse(sim.status.sqsEmptySince ?? '');
    await sim.run(30);
    // A straggler shows up mid-window: swept, and the window starts again.
    sim.sqsRemainder = { queue: { known: true, value: 1 }, deadLetters: { known: true, value: 0 } };
    await sim.run(1);
    expect(sim.status.sqsEmptySince).toBeUndefined();
    expect(sweeps(sim)).toHaveLength(1);
    sim.sqsRemainder = { queue: { known: false, reason: 'throttled' }, deadLetters: 'none' };
    await sim.run(1);
    expect(sim.status.message).toContain('queue unknown: throttled');

    sim.sqsRemainder = { queue: { known: true, value: 0 }, deadLetters: 'none' };
    await sim.runUntil(() => sim.status.phase === 'Succeeded');
    expect(sim.now - emptySince).toBeGreaterThan(90_000);
    expect(sim.status.history?.at(-1)?.message).toBe(
      'every Deployment runs on Redis; SQS fallback removed; SQS queue kept',
    );
  });

  it('never deletes the queue unless the spec asks', async () => {
    const sim = await migrationAt('cleanup', 0);
    await sim.runUntil(() => sim.status.phase === 'Succeeded');
    expect(deletions(sim)).toBe(0);
    expect(sim.status.queueDeletedAt).toBeUndefined();
    expect(reasons(sim)).not.toContain('QueueDeleted');
  });

  it('with deleteQueue, records the deletion in status before deleting, and succeeds once the queue is gone', async () => {
    const sim = await migrationAt('cleanup', 1, true);
    await sim.runUntil(() => sim.status.queueDeletedAt !== undefined);
    const deciding = sim.decisions.at(-1)?.actions ?? [];
    const kinds = deciding.map((a) => a.kind);
    expect(kinds.indexOf('writeStatus')).toBeLessThan(kinds.indexOf('deleteSqsQueue'));
    const written = deciding.find((a) => a.kind === 'writeStatus');
    expect(written?.kind === 'writeStatus' && written.status.queueDeletedAt).toBe(
      new Date(sim.now).toISOString(),
    );
    expect(sim.status.history?.at(-1)).toMatchObject({
      reason: 'QueueDeleted',
      message: `SQS queue ${QUEUE_URL} swept empty: deleting it (its dead-letter queue is kept); no rollback from here`,
    });
    expect(sim.status.phase).toBe('Progressing');

    // SQS still answers for the queue (real SQS does for up to a minute): deletion is asked again.
    const decidedAt = sim.status.queueDeletedAt;
    await sim.run(2);
    expect(deletions(sim)).toBe(3);
    expect(sim.status.queueDeletedAt).toBe(decidedAt);
    expect(sim.status.message).toContain(`SQS queue ${QUEUE_URL} to be gone`);

    sim.sqsRemainder = { queue: 'gone', deadLetters: { known: false, reason: 'the queue is gone' } };
    await sim.run(1);
    expect(sim.status.phase).toBe('Succeeded');
    expect(sim.status.queueDeletedAt).toBe(decidedAt);
    expect(deletions(sim)).toBe(3);
    expect(reasons(sim).slice(-2)).toEqual(['QueueDeleted', 'Succeeded']);
    expect(sim.status.history?.at(-1)?.message).toContain('SQS queue deleted');
  });

  it('sweeps a straggler seen after the deletion was decided, and deletes only after the window again', async () => {
    const sim = await migrationAt('cleanup', 1, true);
    await sim.runUntil(() => sim.status.queueDeletedAt !== undefined);
    const asked = deletions(sim);
    sim.sqsRemainder = { queue: { known: true, value: 2 }, deadLetters: 'none' };
    await sim.run(1);
    expect(sweeps(sim)).toHaveLength(1);
    expect(lastActions(sim).some((a) => a.kind === 'deleteSqsQueue')).toBe(false);
    sim.sqsRemainder = EMPTY;
    await sim.run(60);
    expect(deletions(sim)).toBe(asked);
    await sim.run(1);
    expect(deletions(sim)).toBe(asked + 1);
  });
});
