import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { envPaths } from '../env/paths.ts';
import { isListening } from '../env/ports.ts';
import { withRedis } from '../env/redis.ts';
import { currentMasterPort, restoreSentinelTopology } from '../env/sentinel.ts';
import { daemonPid, type SentinelEndpoints } from '../env/state.ts';
import { environment, required } from '../env/test-environment.ts';
import { waitUntil } from '../env/wait.ts';

/** Writes confirmed before the fault, and writes acknowledged after it, wanted on each side. */
const WRITES_PER_PHASE = 50;

interface Write {
  index: number;
  acknowledgedAt: number;
  /** WAIT 1 confirmed that a replica had it (and every earlier write on the connection). */
  replicated: boolean;
}

/**
 * Writes `<prefix><i>` = i in a loop through a Sentinel client, one at a time, and records what
 * each write got back. Until `faulted` is set, each write is followed by WAIT 1: the writes it
 * confirms are the ones a failover must not lose. A failed write is left out: its outcome is unknown.
 */
class Writer {
  readonly writes: Write[] = [];
  readonly prefix: string;
  faulted = false;
  private stopped = false;
  private readonly done: Promise<void>;
  private readonly client: Redis;

  constructor(sentinel: SentinelEndpoints, prefix: string) {
    this.prefix = prefix;
    this.client = new Redis({
      sentinels: sentinel.sentinels.map(({ host, port }) => ({ host, port })),
      name: sentinel.masterName,
      retryStrategy: () => 100,
    });
    // Refused connections are the point while the primary is down; failed writes are what count.
    this.client.on('error', () => undefined);
    this.done = this.run();
  }

  private async run(): Promise<void> {
    for (let index = 0; !this.stopped; index++) {
      try {
        await this.client.set(`${this.prefix}${index}`, String(index));
      } catch {
        continue;
      }
      const write: Write = { index, acknowledgedAt: Date.now(), replicated: false };
      this.writes.push(write);
      if (this.faulted) continue;
      write.replicated = await this.client.wait(1, 1_000).then(
        (replicas) => replicas >= 1,
        () => false,
      );
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.done;
    this.client.disconnect();
  }
}

describe('redis sentinel topology', () => {
  // Before: an earlier run may have been interrupted mid-fault in a reused environment. After:
  // later tests expect the topology as it was started, the killed primary back, as primary.
  const restore = (): Promise<void> => restoreSentinelTopology(envPaths(), required('sentinel'));
  beforeAll(restore);
  afterAll(restore);

  it('promotes the replica when the primary is SIGKILLed, keeping every write WAIT 1 confirmed', async ({
    annotate,
  }) => {
    const sentinel = required('sentinel');
    const oldPort = sentinel.primary.port;
    expect(await currentMasterPort(sentinel)).toBe(oldPort);

    const writer = new Writer(sentinel, `env-sentinel-test:${randomUUID()}:`);
    let faultAt = Number.POSITIVE_INFINITY;
    let newPort = oldPort;
    try {
      await waitUntil(() => writer.writes.filter((w) => w.replicated).length >= WRITES_PER_PHASE, {
        what: `${WRITES_PER_PHASE} writes confirmed by WAIT 1 before the fault`,
      });
      writer.faulted = true;
      process.kill(daemonPid(environment(), sentinel.primary.daemon), 'SIGKILL');
      await waitUntil(async () => !(await isListening(oldPort)), {
        what: `the killed primary to stop listening`,
      });
      // From here on only the promoted replica can acknowledge a write.
      faultAt = Date.now();
      newPort = await waitUntil(
        async () => {
          const port = await currentMasterPort(sentinel);
          return port !== oldPort && port;
        },
        { what: 'the sentinels to promote the replica', timeoutMs: 30_000 },
      );
      await waitUntil(
        () => writer.writes.filter((w) => w.acknowledgedAt > faultAt).length >= WRITES_PER_PHASE,
        {
          what: `${WRITES_PER_PHASE} writes acknowledged by the new primary`,
        },
      );
    } finally {
      await writer.stop();
    }

    expect(newPort).not.toBe(oldPort);
    expect(newPort).toBe(sentinel.replica.port);
    const values = await withRedis({ port: newPort }, (redis) =>
      redis.mget(writer.writes.map((w) => `${writer.prefix}${w.index}`)),
    );
    const lost = writer.writes.filter((w, i) => values[i] !== String(w.index));
    const afterFault = lost.filter((w) => w.acknowledgedAt > faultAt);
    const confirmed = lost.filter((w) => w.replicated);
    const inReplicationWindow = lost.filter((w) => !w.replicated && w.acknowledgedAt <= faultAt);
    await annotate(
      `${writer.writes.length} writes acknowledged; ${inReplicationWindow.length} acknowledged by the killed ` +
        `primary without WAIT 1 confirmation were lost in the asynchronous replication window` +
        (inReplicationWindow.length > 0
          ? ` (indices ${inReplicationWindow.map((w) => w.index).join(', ')})`
          : ''),
    );
    expect(confirmed.map((w) => w.index)).toEqual([]);
    expect(afterFault.map((w) => w.index)).toEqual([]);
  });
});
