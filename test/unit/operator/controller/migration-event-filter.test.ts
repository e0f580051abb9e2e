import { describe, expect, it } from 'vitest';
import { decisionInputsOf } from '../../../../src/operator/controller/migration-controller.ts';
import type { MigrationObject } from '../../../../src/operator/controller/migration-object.ts';

const migration: MigrationObject = {
  apiVersion: 'queueshift.dev/v1alpha1',
  kind: 'QueueMigration',
  metadata: {
    name: 'm',
    namespace: 'ns',
    uid: 'u-1',
    generation: 3,
    resourceVersion: '100',
    finalizers: ['queueshift.dev/finalizer'],
    annotations: { 'queueshift.dev/promote': 't-1' },
  },
  spec: { paused: false },
  status: { stage: 'dual' },
};

const changed = (change: (m: MigrationObject) => void): MigrationObject => {
  const copy = structuredClone(migration);
  change(copy);
  return copy;
};

describe('which QueueMigration events lead to a reconcile', () => {
  it.each([
    [
      'its status (the echo of the operator’s own write)',
      (m: MigrationObject) => (m.status = { stage: 'staging' }),
    ],
    ['its resourceVersion', (m: MigrationObject) => (m.metadata.resourceVersion = '101')],
  ])('not a change of %s alone', (_what, change) => {
    expect(decisionInputsOf(changed(change))).toBe(decisionInputsOf(migration));
  });

  it.each([
    ['its spec (generation)', (m: MigrationObject) => (m.metadata.generation = 4)],
    [
      'a control annotation',
      (m: MigrationObject) => (m.metadata.annotations = { 'queueshift.dev/promote': 't-2' }),
    ],
    ['its finalizers', (m: MigrationObject) => (m.metadata.finalizers = [])],
    ['its deletion', (m: MigrationObject) => (m.metadata.deletionTimestamp = '2026-11-26T10:00:00Z')],
  ])('a change of %s', (_what, change) => {
    expect(decisionInputsOf(changed(change))).not.toBe(decisionInputsOf(migration));
  });
});
