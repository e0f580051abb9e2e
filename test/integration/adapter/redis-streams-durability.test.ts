import { afterEach, describe, expect, it } from 'vitest';
import { required } from '../../env/test-environment.ts';
import { tlsRedisOptions } from '../../env/tls-redis.ts';
import { BackendPool, testConfig, tlsStreamsRedis } from './redis-streams-support.ts';

/** DESIGN.md §1: the write-loss window of the chosen setting is reported, not hidden. */
describe('redis streams back end: durability report', () => {
  const pool = new BackendPool();
  afterEach(() => pool.cleanup());

  it('the stream Redis (AOF everysec, no replica): about the last second of publishes on a restart, no failover', async () => {
    const report = await pool.create(testConfig()).durability();

    expect(report).toMatchObject({
      role: { known: true, value: 'master' },
      connectedReplicas: { known: true, value: 0 },
      aofEnabled: { known: true, value: true },
      appendfsync: { known: true, value: 'everysec' },
      wait: undefined,
      lossOnRestart: { kind: 'bounded', upToMs: 2_000 },
      lossOnFailover: { kind: 'not-applicable' },
    });
    expect(report.lossOnRestart.why).toMatch(/appendfsync everysec/);
  });

  it('with WAIT configured, a failover loses no resolved publish', async () => {
    const waitReplicas = { replicas: 1, timeoutMs: 200 };
    const report = await pool.create(testConfig({ waitReplicas })).durability();

    expect(report.wait).toEqual(waitReplicas);
    expect(report.lossOnFailover).toMatchObject({ kind: 'none' });
    // WAIT says nothing about the primary's own disk.
    expect(report.lossOnRestart).toMatchObject({ kind: 'bounded', upToMs: 2_000 });
  });
});

describe('redis streams back end: durability report as a least-privilege ACL user', () => {
  const pool = new BackendPool(() => tlsRedisOptions(required('tlsRedis')));
  afterEach(() => pool.cleanup());

  it('CONFIG denied: what depends on it is unknown, never assumed safe', async () => {
    const report = await pool.create(testConfig({ connection: tlsStreamsRedis() })).durability();

    // INFO is granted (ioredis's ready check needs it), CONFIG is not.
    expect(report.role).toEqual({ known: true, value: 'master' });
    expect(report.appendfsync).toMatchObject({
      known: false,
      reason: expect.stringMatching(/NOPERM/) as unknown,
    });
    expect(report.rdbSavePoints).toMatchObject({ known: false });
    expect(report.lossOnRestart.kind).toBe('unknown');
  });
});
