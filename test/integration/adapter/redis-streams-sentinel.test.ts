import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RedisConnectionConfig } from '../../../src/adapter/config.ts';
import type { RedisStreamsBackend } from '../../../src/adapter/redis-streams/redis-streams-backend.ts';
import { envPaths } from '../../env/paths.ts';
import { isListening, LOOPBACK } from '../../env/ports.ts';
import { restartRedisServer, withRedis } from '../../env/redis.ts';
import { currentMasterPort, restoreSentinelTopology } from '../../env/sentinel.ts';
import { daemonPid, type SentinelEndpoints } from '../../env/state.ts';
import { environment, required } from '../../env/test-environment.ts';
import { waitUntil } from '../../env/wait.ts';
import { BackendPool, ConsumerLoop, delivery, testConfig } from './redis-streams-support.ts';

/** Publishes confirmed by WAIT 1 wanted before the fault, and again once the new primary has a replica. */
const PER_PHASE = 30;

interface Published {
  deliveryId: string;
  resolvedAt: number;
}

/** Publishes one delivery after another, each with a 3 s budget; keeps the ones that resolved. */
class PublishLoop {
  readonly resolved: Published[] = [];
  rejected = 0;
  private stopped = false;
  private readonly done: Promise<void>;

  constructor(backend: RedisStreamsBackend) {
    this.done = (async () => {
      for (let index = 0; !this.stopped; index++) {
        const message = delivery(index);
        try {
          await backend.publish(message, AbortSignal.timeout(3_000));
          this.resolved.push({ deliveryId: message.deliveryId, resolvedAt: Date.now() });
        } catch {
          // Refused or unknown outcome: the guarantee covers resolved publishes only.
          this.rejected++;
        }
      }
    })();
  }

  resolvedAfter(time: number): number {
    return this.resolved.filter((p) => p.resolvedAt > time).length;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.done;
  }
}

function sentinelConnection(sentinel: SentinelEndpoints): RedisConnectionConfig {
  return {
    endpoint: {
      kind: 'sentinel',
      masterName: sentinel.masterName,
      sentinels: sentinel.sentinels.map(({ host, port }) => ({ host, port })),
    },
  };
}

describe('redis streams back end on Sentinel', () => {
  // Before: a reused environment may hold an interrupted fault. After: later tests expect the
  // topology as started, the killed primary back as primary.
  const restore = (): Promise<void> => restoreSentinelTopology(envPaths(), required('sentinel'));
  beforeAll(restore);
  afterAll(restore);
  const pool = new BackendPool(() => {
    const sentinel = required('sentinel');
    return {
      sentinels: sentinel.sentinels.map(({ host, port }) => ({ host, port })),
      name: sentinel.masterName,
    };
  });
  afterEach(() => pool.cleanup());

  it('the primary SIGKILLed during publish and consume: every publish confirmed by WAIT 1 is received, and both carry on with the new primary', async ({
    annotate,
  }) => {
    const sentinel = required('sentinel');
    const oldPort = sentinel.primary.port;
    expect(await currentMasterPort(sentinel)).toBe(oldPort);
    const config = testConfig({
      connection: sentinelConnection(sentinel),
      blockMs: 200,
      claimIdleMs: 2_000,
      waitReplicas: { replicas: 1, timeoutMs: 500 },
    });
    const producer = pool.create(config);
    const consumer = pool.create(config, { watchdogGraceMs: 500, claimIntervalMs: 200 });
    await consumer.ensureGroup();
    const consuming = new ConsumerLoop(consumer);
    const publishing = new PublishLoop(producer);
    let revivedAt = Number.POSITIVE_INFINITY;
    let faultAt = Number.POSITIVE_INFINITY;
    try {
      await waitUntil(() => publishing.resolved.length >= PER_PHASE, {
        what: `${PER_PHASE} publishes confirmed before the fault`,
      });
      process.kill(daemonPid(environment(), sentinel.primary.daemon), 'SIGKILL');
      await waitUntil(async () => !(await isListening(oldPort)), {
        what: 'the killed primary to stop listening',
      });
      faultAt = Date.now();
      const newPort = await waitUntil(
        async () => {
          const port = await currentMasterPort(sentinel);
          return port !== oldPort && port;
        },
        { what: 'the sentinels to promote the replica', timeoutMs: 30_000 },
      );
      // WAIT 1 needs a replica: the killed server returns, empty, as the new primary's replica.
      await restartRedisServer(envPaths(), sentinel.primary.daemon);
      await withRedis({ port: oldPort }, (redis) => redis.replicaof(LOOPBACK, newPort));
      revivedAt = Date.now();
      await waitUntil(() => publishing.resolvedAfter(revivedAt) >= PER_PHASE, {
        what: `${PER_PHASE} publishes confirmed by the new primary`,
        timeoutMs: 30_000,
      });
      expect(await currentMasterPort(sentinel)).toBe(newPort);
    } finally {
      await publishing.stop();
    }
    try {
      const handled = (): Set<string> => new Set(consuming.handled.map((m) => m.deliveryId));
      await waitUntil(() => publishing.resolved.every((p) => handled().has(p.deliveryId)), {
        what: `all ${publishing.resolved.length} confirmed publishes to be received`,
        timeoutMs: 30_000,
      });
    } finally {
      await consuming.close();
    }
    const received = consuming.handled.length;
    await annotate(
      `${publishing.resolved.length} publishes confirmed (${publishing.resolvedAfter(faultAt)} after the fault), ` +
        `${publishing.rejected} refused or abandoned during the failover; ${received} receipts in all ` +
        `(${received - new Set(consuming.handled.map((m) => m.deliveryId)).size} repeats), ` +
        `${consuming.errors.length} receive/ack errors while the primary was away`,
    );
    expect(publishing.resolvedAfter(revivedAt)).toBeGreaterThanOrEqual(PER_PHASE);
  }, 120_000);
});
