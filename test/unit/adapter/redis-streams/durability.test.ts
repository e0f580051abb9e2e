import { describe, expect, it } from 'vitest';
import { assessDurability, type DurabilityFacts } from '../../../../src/adapter/redis-streams/durability.ts';
import { durabilityFacts } from '../../../../src/adapter/redis-streams/read-durability.ts';

const NOW = 1_800_000_000_000;
const known = <T>(value: T) => ({ known: true as const, value });
const denied = {
  known: false as const,
  reason: "NOPERM this user has no permissions to run the 'config' command",
};

/** A primary with AOF everysec and no replica, as the test environment's stream Redis runs. */
const everysecAlone: DurabilityFacts = {
  role: known('master'),
  connectedReplicas: known(0),
  replicaLagBytes: known(0),
  minReplicas: known({ toWrite: 0, maxLagS: 10 }),
  aofEnabled: known(true),
  appendfsync: known('everysec'),
  rdbSavePoints: known(''),
  changesSinceLastSnapshot: known(1_200),
  lastSnapshotAt: known(NOW - 90_000),
};

describe('durability: the write-loss window of a Redis setting', () => {
  it.each([
    ['appendfsync always', { appendfsync: known('always') }, { kind: 'none' }],
    ['appendfsync everysec', {}, { kind: 'bounded', upToMs: 2_000 }],
    ['appendfsync no', { appendfsync: known('no') }, { kind: 'bounded', upToMs: 30_000 }],
    ['AOF on, fsync policy denied', { appendfsync: denied }, { kind: 'unknown' }],
    ['AOF off, no snapshots', { aofEnabled: known(false) }, { kind: 'unbounded' }],
    [
      'AOF off, RDB save points',
      { aofEnabled: known(false), rdbSavePoints: known('3600 1 300 100 60 10000') },
      { kind: 'bounded', upToMs: 3_600_000 },
      /1200 writes of the last 90 s/,
    ],
    ['AOF off, save points denied', { aofEnabled: known(false), rdbSavePoints: denied }, { kind: 'unknown' }],
    ['INFO denied', { aofEnabled: denied }, { kind: 'unknown' }],
  ])('on restart, %s', (_case, facts, window, why?: RegExp) => {
    const report = assessDurability({ ...everysecAlone, ...facts }, undefined, NOW);
    expect(report.lossOnRestart).toMatchObject(window);
    if (why) expect(report.lossOnRestart.why).toMatch(why);
  });

  it.each([
    ['no replica: nothing to promote', {}, undefined, { kind: 'not-applicable' }],
    [
      'asynchronous replication, min-replicas-to-write off',
      { connectedReplicas: known(1), replicaLagBytes: known(438) },
      undefined,
      { kind: 'unbounded' },
      /trails by 438 bytes/,
    ],
    [
      'asynchronous replication, writes refused past min-replicas-max-lag 2 s',
      { connectedReplicas: known(1), minReplicas: known({ toWrite: 1, maxLagS: 2 }) },
      undefined,
      // The lag Redis compares is the age of the last acknowledgement, sent once a second.
      { kind: 'bounded', upToMs: 3_000 },
      /fewer than 1 replica\(s\) acknowledged within 2 s/,
    ],
    [
      'asynchronous replication, min-replicas settings denied',
      { connectedReplicas: known(1), minReplicas: denied },
      undefined,
      { kind: 'unknown' },
      /NOPERM/,
    ],
    [
      'every publish waits for a replica',
      { connectedReplicas: known(1) },
      { replicas: 1, timeoutMs: 500 },
      { kind: 'none' },
      /REDIS_STREAMS_REPLICATION_SHORT/,
    ],
    ['replicas unknown', { connectedReplicas: denied }, undefined, { kind: 'unknown' }],
  ])('on failover, %s', (_case, facts, wait, window, why?: RegExp) => {
    const report = assessDurability({ ...everysecAlone, ...facts }, wait, NOW);
    expect(report.lossOnFailover).toMatchObject(window);
    if (why) expect(report.lossOnFailover.why).toMatch(why);
    expect(report.wait).toEqual(wait);
  });

  it('reads the facts from INFO and CONFIG GET as Redis 7 answers them', () => {
    const replication = [
      '# Replication',
      'role:master',
      'connected_slaves:2',
      'slave0:ip=127.0.0.1,port=43781,state=online,offset=6012227,lag=1',
      'slave1:ip=127.0.0.1,port=43782,state=wait_bgsave,offset=0,lag=0',
      'master_repl_offset:6012665',
      '',
    ].join('\r\n');
    const persistence = [
      '# Persistence',
      'rdb_changes_since_last_save:732329',
      'rdb_last_save_time:1795667462',
      'aof_enabled:1',
      '',
    ].join('\r\n');
    expect(
      durabilityFacts({
        replication: known(replication),
        persistence: known(persistence),
        appendfsync: known(['appendfsync', 'everysec']),
        save: known(['save', '']),
        minReplicasToWrite: known(['min-replicas-to-write', '1']),
        minReplicasMaxLag: known(['min-replicas-max-lag', '10']),
      }),
    ).toEqual({
      role: known('master'),
      connectedReplicas: known(2),
      // Only the online replica counts: 6012665 - 6012227.
      replicaLagBytes: known(438),
      minReplicas: known({ toWrite: 1, maxLagS: 10 }),
      aofEnabled: known(true),
      appendfsync: known('everysec'),
      rdbSavePoints: known(''),
      changesSinceLastSnapshot: known(732_329),
      lastSnapshotAt: known(1_795_667_462_000),
    });
  });

  it('a refused command makes its facts unknown, with the refusal as the reason', () => {
    const facts = durabilityFacts({
      replication: denied,
      persistence: denied,
      appendfsync: denied,
      save: denied,
      minReplicasToWrite: denied,
      minReplicasMaxLag: denied,
    });
    for (const fact of Object.values(facts)) expect(fact).toEqual(denied);
    const report = assessDurability(facts, undefined, NOW);
    expect(report.lossOnRestart.kind).toBe('unknown');
    expect(report.lossOnFailover.kind).toBe('unknown');
  });
});
