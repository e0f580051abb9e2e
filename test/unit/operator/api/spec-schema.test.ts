import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { queueMigrationSpec } from '../../../../src/operator/api/spec-schema.ts';
import { INVALID_SPECS, invalidSpec, minimalSpec } from '../fixtures/migrations.ts';

/** `['producers', 0, 'name']` → `producers[0].name`, the form the API server uses. */
function fieldOf(path: readonly PropertyKey[]): string {
  return path
    .map((key, i) => (typeof key === 'number' ? `[${key}]` : `${i === 0 ? '' : '.'}${String(key)}`))
    .join('');
}

/** The fields an issue names: an unknown key is named by the key, under the object's path. */
function fieldsOf(issue: z.core.$ZodIssue): string[] {
  if (issue.code === 'unrecognized_keys') return issue.keys.map((key) => fieldOf([...issue.path, key]));
  return [fieldOf(issue.path)];
}

describe('the QueueMigration spec schema', () => {
  it('fills every default of a minimal spec', () => {
    const spec = queueMigrationSpec.parse(minimalSpec());
    expect(spec.redis).toMatchObject({ stream: 'github-webhooks', group: 'webhook-workers' });
    expect(spec.stages.canary.steps).toEqual([
      { weight: 10, duration: '10m', approval: false },
      { weight: 50, duration: '10m', approval: false },
    ]);
    expect(spec.stages.full).toEqual({ bakeTime: '30m', drainWindow: '1m', approval: false });
    expect(spec.stages.cleanup).toEqual({ stabilityWindow: '24h', deleteQueue: false });
    expect(spec.analysis).toMatchObject({
      interval: '30s',
      failureLimit: 0,
      inconclusiveLimit: 3,
      consecutiveErrorLimit: 4,
      inconclusivePolicy: 'pause',
      metrics: [],
    });
    expect(spec.rollback).toEqual({ automatic: true, drainTimeout: '10m', retryBackoff: '5s' });
    expect(spec).toMatchObject({ deletionPolicy: 'RollBack', paused: false, dryRun: false });
  });

  it('accepts a Sentinel endpoint with TLS and a password reference', () => {
    const spec = {
      ...minimalSpec(),
      redis: {
        endpoint: { mode: 'sentinel', masterName: 'primary', sentinels: ['s-0:26379', '[::1]:26380'] },
        username: 'queueshift',
        passwordSecretRef: { name: 'redis-auth', key: 'password' },
        tls: { secretName: 'redis-tls', certKey: 'tls.crt', keyKey: 'tls.key' },
      },
    };
    expect(queueMigrationSpec.parse(spec).redis.tls).toEqual({
      secretName: 'redis-tls',
      mountPath: '/etc/queueshift/redis-tls',
      caKey: 'ca.crt',
      certKey: 'tls.crt',
      keyKey: 'tls.key',
    });
  });

  it.each(INVALID_SPECS)('refuses $what, naming $field', (testCase) => {
    const result = queueMigrationSpec.safeParse(invalidSpec(testCase));
    expect(result.success).toBe(false);
    const fields = result.error?.issues.flatMap(fieldsOf) ?? [];
    expect(fields).toContain(testCase.field);
  });
});
