import { describe, expect, it } from 'vitest';
import type { QueueMigrationStatus } from '../../../src/operator/api/status-schema.ts';
import type { PreflightFacts } from '../../../src/operator/preflight/preflight-facts.ts';
import type { Decision } from '../../../src/operator/stages/actions.ts';
import { decide } from '../../../src/operator/stages/stage-machine.ts';
import { HEALTHY_REDIS, PASSING_PREFLIGHT } from './preflight-fixtures.ts';
import { fastSpec, observed, SQS_ENV, T0 } from './stages/simulated-deployments.ts';

const spec = fastSpec();
const deployments = new Map(
  [...spec.producers, ...spec.consumers].map((t) => [t.name, observed(t.name, structuredClone(SQS_ENV))]),
);

const LRU: PreflightFacts = {
  ...PASSING_PREFLIGHT,
  redis: { known: true, value: { ...HEALTHY_REDIS, maxmemoryPolicy: { known: true, value: 'allkeys-lru' } } },
};

function pass(status: QueueMigrationStatus, preflight: PreflightFacts | undefined, now: number): Decision {
  return decide({
    spec,
    status: structuredClone(status),
    generation: 1,
    tokens: {},
    finalizerPresent: true,
    deleting: false,
    now,
    observations: { deployments, canaries: new Map(), verdicts: [], ...(preflight && { preflight }) },
  });
}

const kinds = (decision: Decision): string[] => decision.actions.map((a) => a.kind);
const events = (decision: Decision): string[] =>
  decision.actions.flatMap((a) => (a.kind === 'recordEvent' ? [a.entry.reason] : []));
const condition = (status: QueueMigrationStatus) =>
  status.conditions?.find((c) => c.type === 'PreflightPassed');

describe('the preflight gate on the start of dual', () => {
  it('waits for the checks before recording or patching anything', () => {
    const decision = pass({}, undefined, T0);
    expect(decision.status.phase).toBe('Pending');
    expect(decision.status.originals).toBeUndefined();
    expect(decision.status.message).toBe('not started: waiting for the preflight checks');
    expect(kinds(decision)).not.toContain('applySettings');
  });

  it('stays Pending on a failed check, with the condition naming it, an Event once, and no patch', () => {
    const first = pass({}, LRU, T0);
    expect(first.status.phase).toBe('Pending');
    expect(first.status.originals).toBeUndefined();
    expect(kinds(first)).not.toContain('applySettings');
    expect(condition(first.status)).toMatchObject({
      status: 'False',
      reason: 'CheckFailed',
      message: expect.stringMatching(/^redis-eviction-policy: maxmemory-policy is allkeys-lru/) as unknown,
    });
    expect(first.status.preflight?.passedAt).toBeUndefined();
    expect(events(first)).toEqual(['PreflightFailed']);
    expect(first.requeueAfterMs).toBe(1_000);

    const again = pass(first.status, LRU, T0 + 1_000);
    expect(events(again)).toEqual([]);
    expect(again.status.preflight?.checkedAt).toBe(new Date(T0 + 1_000).toISOString());
  });

  it('starts dual once the checks pass, and pins the result', () => {
    const failing = pass({}, LRU, T0).status;
    const fixed = pass(failing, PASSING_PREFLIGHT, T0 + 1_000);
    expect(fixed.status.phase).toBe('Progressing');
    expect(fixed.status.stage).toBe('dual');
    expect(events(fixed)).toEqual(['DualStarted']);
    expect(kinds(fixed)).toContain('applySettings');
    expect(condition(fixed.status)).toMatchObject({ status: 'True', reason: 'ChecksPassed' });
    expect(fixed.status.preflight?.passedAt).toBe(new Date(T0 + 1_000).toISOString());

    // Pinned: a status that passed needs no facts again (the gatherer stops collecting them).
    const retried = pass({ ...fixed.status, phase: 'Pending' }, undefined, T0 + 2_000);
    expect(retried.status.phase).toBe('Progressing');
    expect(retried.status.preflight).toEqual(fixed.status.preflight);
  });
});
