import type { EnvContext } from './context.ts';
import type { EnvPaths } from './paths.ts';
import { freePort, LOOPBACK } from './ports.ts';
import {
  answersPing,
  NO_EVICTION_NO_SNAPSHOTS,
  restartRedisServer,
  startRedisDaemon,
  withRedis,
} from './redis.ts';
import type { RedisServer, SentinelEndpoints } from './state.ts';
import { waitUntil } from './wait.ts';

export const SENTINEL_MASTER_NAME = 'queueshift-primary';
const SENTINEL_COUNT = 3;
const QUORUM = 2;
/**
 * Short so that a failover completes in a few seconds, yet above the second or so for which a
 * sentinel can stall in fsync (it saves its config on every change) while the disk is busy:
 * with 1 s, all three once declared a healthy master down and failed over again.
 */
const DOWN_AFTER_MS = 2_000;
const FAILOVER_TIMEOUT_MS = 10_000;
/** Time for a topology change to settle: the return of a killed server, a forced failover. */
const SETTLE_TIMEOUT_MS = 60_000;

/** The shape the sentinels should agree on. */
export interface Topology {
  masterPort: number;
  replicaPort: number;
}

type Fields = Record<string, string>;

/** A Sentinel reply of alternating names and values (flat under ioredis's default reply mapping). */
function fields(reply: unknown): Fields {
  const list = Array.isArray(reply) ? (reply as unknown[]) : [];
  const result: Fields = {};
  for (let i = 0; i + 1 < list.length; i += 2) result[String(list[i])] = String(list[i + 1]);
  return result;
}

function sentinelDirectives(primaryPort: number): string[] {
  const master = SENTINEL_MASTER_NAME;
  return [
    'sentinel resolve-hostnames no',
    // Without it a sentinel advertises whatever address it sees itself on; traffic must stay on loopback.
    `sentinel announce-ip ${LOOPBACK}`,
    `sentinel monitor ${master} ${LOOPBACK} ${primaryPort} ${QUORUM}`,
    `sentinel down-after-milliseconds ${master} ${DOWN_AFTER_MS}`,
    `sentinel failover-timeout ${master} ${FAILOVER_TIMEOUT_MS}`,
  ];
}

/** What is wrong with one sentinel's view, or undefined when it matches `expected`. */
function topologyProblem(master: Fields, replicas: Fields[], expected: Topology): string | undefined {
  if (
    master['ip'] !== LOOPBACK ||
    master['port'] !== String(expected.masterPort) ||
    master['flags'] !== 'master'
  ) {
    return `sees master ${master['ip'] ?? '?'}:${master['port'] ?? '?'} (${master['flags'] ?? 'unknown'})`;
  }
  if (master['num-other-sentinels'] !== String(SENTINEL_COUNT - 1)) {
    return `knows ${master['num-other-sentinels'] ?? '?'} other sentinels`;
  }
  const replica = replicas.find((r) => r['ip'] === LOOPBACK && r['port'] === String(expected.replicaPort));
  if (
    replica?.['flags'] !== 'slave' ||
    replica['master-port'] !== String(expected.masterPort) ||
    replica['master-link-status'] !== 'ok'
  ) {
    const seen = replica
      ? `${replica['flags'] ?? '?'}, link ${replica['master-link-status'] ?? '?'}`
      : 'unknown';
    return `sees replica ${LOOPBACK}:${expected.replicaPort} as ${seen}`;
  }
  return undefined;
}

/** Resolves true when the sentinel's view matches; throws what differs otherwise (reported on timeout). */
async function sentinelAgrees(sentinelPort: number, expected: Topology): Promise<true> {
  const problem = await withRedis({ port: sentinelPort }, async (client) => {
    const master = fields(await client.call('SENTINEL', 'MASTER', SENTINEL_MASTER_NAME));
    const replicas = (await client.call('SENTINEL', 'REPLICAS', SENTINEL_MASTER_NAME)) as unknown[];
    return topologyProblem(master, replicas.map(fields), expected);
  });
  if (problem !== undefined) throw new Error(`sentinel on ${LOOPBACK}:${sentinelPort} ${problem}`);
  return true;
}

/** Resolves when every sentinel's view matches `expected`; throws the first difference otherwise. */
async function allSentinelsAgree(endpoints: SentinelEndpoints, expected: Topology): Promise<true> {
  await Promise.all(endpoints.sentinels.map((sentinel) => sentinelAgrees(sentinel.port, expected)));
  return true;
}

/**
 * Waits until every sentinel sees `expected.masterPort` as a healthy master, `expected.replicaPort`
 * as its replica with the link up, and all the other sentinels.
 */
export async function waitForSentinelTopology(
  endpoints: SentinelEndpoints,
  expected: Topology,
): Promise<void> {
  await waitUntil(() => allSentinelsAgree(endpoints, expected), {
    what: `the sentinels to agree on master ${LOOPBACK}:${expected.masterPort} with replica ${LOOPBACK}:${expected.replicaPort}`,
    timeoutMs: SETTLE_TIMEOUT_MS,
    intervalMs: 250,
  });
}

function firstSentinel(endpoints: SentinelEndpoints): RedisServer {
  const first = endpoints.sentinels[0];
  if (!first) throw new Error('the sentinel topology has no sentinels');
  return first;
}

/** The master port the first sentinel currently reports (what a Sentinel client would be told). */
export async function currentMasterPort(endpoints: SentinelEndpoints): Promise<number> {
  const first = firstSentinel(endpoints);
  const address = await withRedis({ port: first.port }, (client) =>
    client.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', SENTINEL_MASTER_NAME),
  );
  return Number((address as unknown[])[1]);
}

/**
 * Sentinel's internal periods (Redis 7.0+, SENTINEL DEBUG; runtime only, not in its config).
 * By default a sentinel refreshes INFO from each server every 10 s and waits four hello periods
 * (8 s) before it turns a returning old master into a replica, so the topology takes half a
 * minute to settle after a fault; with these, a few seconds.
 */
async function shortenSentinelPeriods(port: number): Promise<void> {
  await withRedis({ port }, (client) =>
    client.call('SENTINEL', 'DEBUG', 'INFO-PERIOD', 1_000, 'PUBLISH-PERIOD', 500),
  );
}

async function replicaLinkUp(port: number): Promise<boolean> {
  const info = await withRedis({ port }, (client) => client.info('replication'));
  return /^master_link_status:up\r?$/m.test(info);
}

/**
 * Primary, replica and three sentinels. The sentinels start once the replica is in sync, so that
 * their first look at the primary already lists it and they do not wait for the next INFO round.
 */
export async function startSentinelTopology(ctx: EnvContext): Promise<void> {
  const primaryPort = await freePort();
  const replicaPort = await freePort();
  const sentinelPorts = await Promise.all(Array.from({ length: SENTINEL_COUNT }, () => freePort()));
  const serverDirectives = [
    ...NO_EVICTION_NO_SNAPSHOTS,
    // Either server may be the replica after a failover, so both announce the loopback address.
    `replica-announce-ip ${LOOPBACK}`,
    // A master otherwise waits 5 s for more replicas before each full sync it serves.
    'repl-diskless-sync-delay 0',
  ];
  const [primary, replica] = await Promise.all([
    startRedisDaemon(ctx, { name: 'sentinel-primary', port: primaryPort, directives: serverDirectives }),
    startRedisDaemon(ctx, {
      name: 'sentinel-replica',
      port: replicaPort,
      directives: [...serverDirectives, `replicaof ${LOOPBACK} ${primaryPort}`],
    }),
  ]);
  await waitUntil(() => replicaLinkUp(replicaPort), {
    what: `sentinel-replica on ${LOOPBACK}:${replicaPort} to sync from ${LOOPBACK}:${primaryPort} (log: ${ctx.paths.logsDir}/sentinel-replica.log)`,
  });
  const sentinels = await Promise.all(
    sentinelPorts.map((port, index) =>
      startRedisDaemon(ctx, {
        name: `sentinel-${index + 1}`,
        port,
        sentinel: true,
        directives: sentinelDirectives(primaryPort),
      }),
    ),
  );
  await Promise.all(sentinelPorts.map(shortenSentinelPeriods));
  const endpoints = { masterName: SENTINEL_MASTER_NAME, primary, replica, sentinels };
  await waitForSentinelTopology(endpoints, { masterPort: primaryPort, replicaPort });
  ctx.state.sentinel = endpoints;
  ctx.save();
  ctx.info(
    `redis sentinel: master ${SENTINEL_MASTER_NAME} at ${LOOPBACK}:${primaryPort}, sentinels on ${sentinelPorts.join(', ')}`,
  );
}

/** Restarts a server that does not answer; a restarted one that is not the master replicates from it. */
async function reviveServer(paths: EnvPaths, server: RedisServer, masterPort: number): Promise<void> {
  if (await answersPing({ port: server.port }).catch(() => false)) return;
  await restartRedisServer(paths, server.daemon);
  // It comes back as an empty master. Sentinel would turn it into a replica too, but only after
  // watching it act as a master for a while; only a server just restarted gets this, since on a
  // live one it could undo a promotion in progress.
  if (server.port !== masterPort) {
    await withRedis({ port: server.port }, (client) => client.replicaof(LOOPBACK, masterPort));
  }
}

/**
 * One step towards `original`: revive what is down, and when the master has moved and the
 * sentinels agree on where it is, ask for a failover back. Resolves true once `original` holds;
 * throws what is not settled yet.
 */
async function restoreStep(
  paths: EnvPaths,
  endpoints: SentinelEndpoints,
  original: Topology,
): Promise<boolean> {
  const masterPort = await currentMasterPort(endpoints);
  for (const server of [endpoints.primary, endpoints.replica]) await reviveServer(paths, server, masterPort);
  if (masterPort === original.masterPort) return allSentinelsAgree(endpoints, original);
  await allSentinelsAgree(endpoints, { masterPort, replicaPort: original.masterPort });
  // Refused (NOGOODSLAVE, INPROG) until the sentinel has fresh INFO from the replica: the next step retries.
  await withRedis({ port: firstSentinel(endpoints).port }, (client) =>
    client.call('SENTINEL', 'FAILOVER', SENTINEL_MASTER_NAME),
  );
  return false;
}

/**
 * Brings the topology back to what `startSentinelTopology` built, after a fault test: restarts
 * whichever server is down (it comes back empty, without persistence), and, when a failover moved
 * the master, fails back with SENTINEL FAILOVER so that `endpoints.primary` names the master
 * again. Works by observing and stepping until the topology holds, because the sentinels may
 * still be moving (a failover in progress, or a spurious one when a loaded disk stalls them).
 */
export async function restoreSentinelTopology(paths: EnvPaths, endpoints: SentinelEndpoints): Promise<void> {
  const original = { masterPort: endpoints.primary.port, replicaPort: endpoints.replica.port };
  await waitUntil(() => restoreStep(paths, endpoints, original), {
    what: `the sentinel topology to return to master ${LOOPBACK}:${original.masterPort} with replica ${LOOPBACK}:${original.replicaPort}`,
    timeoutMs: SETTLE_TIMEOUT_MS,
    intervalMs: 250,
  });
}
