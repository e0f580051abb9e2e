import type { ChainableCommander, Redis } from 'ioredis';
import type { RedisStreamStats } from '../types.ts';
import { activeConsumers } from './active-consumers.ts';
import { commandError, RedisStreamsError, type RedisStreamsErrorContext } from './errors.ts';
import { backlogOf, crossCheckLag } from './lag-check.ts';
import { asNumber } from './reply-shape.ts';
import { sendCommand } from './send-command.ts';
import { compareIds, idTimestampMs, successorId } from './stream-id.ts';
import { parseEntries, parsePendingSummary } from './stream-replies.ts';
import { parseConsumersInfo, parseGroupsInfo, parseStreamInfo } from './xinfo-replies.ts';

export interface StatsQuery {
  stream: string;
  group: string;
  deadLetterKey: string;
  maxLen: number | undefined;
  /** The injected clock's reading: entry ages are measured against it. */
  now: number;
  activeConsumerWindowMs: number;
  lostToTrimming: number;
}

const SNAPSHOT = ['XINFO STREAM', 'XINFO GROUPS', 'XPENDING', 'XINFO CONSUMERS'] as const;

/** The snapshot's commands, queued on a MULTI or on a plain pipeline. */
function queueSnapshot<Batch extends ChainableCommander>(batch: Batch, { stream, group }: StatsQuery): Batch {
  batch
    .call('XINFO', 'STREAM', stream)
    .call('XINFO', 'GROUPS', stream)
    .call('XPENDING', stream, group)
    .call('XINFO', 'CONSUMERS', stream, group);
  return batch;
}

/**
 * Redis over maxmemory refuses to queue any command inside MULTI, read-only ones included, and
 * EXEC then aborts; the same reads outside a transaction are still served.
 */
function refusedForMemory(error: unknown): boolean {
  if (!(error instanceof Error) || !error.message.startsWith('EXECABORT')) return false;
  const previous = (error as { previousErrors?: unknown }).previousErrors;
  return Array.isArray(previous) && previous.some((e) => e instanceof Error && e.message.startsWith('OOM'));
}

/**
 * The stream and group figures in one MULTI, so that lag, last-delivered-id, the stream's last id
 * and the pending list describe the same moment (one key: fine on Redis Cluster).
 *
 * A Redis at its memory limit is when the operator most needs these figures, so a MULTI refused
 * for memory is retried as a pipeline on the same connection. Its replies may describe moments a
 * few commands apart, so lag, pending and the first undelivered entry can each be off by what was
 * added or delivered meanwhile. The lag cross-check still holds: the first undelivered entry is
 * looked up only up to the last-generated-id read before the group, so an entry added in between
 * can only make lag and entry disagree, which reads as unknown lag (inconclusive), never as a
 * wrong 0.
 */
async function snapshot(
  client: Redis,
  query: StatsQuery,
  where: RedisStreamsErrorContext,
): Promise<unknown[]> {
  const results = await queueSnapshot(client.multi(), query)
    .exec()
    .catch(async (error: unknown) => {
      if (refusedForMemory(error)) return queueSnapshot(client.pipeline(), query).exec();
      throw error;
    })
    .catch((error: unknown) => {
      throw commandError('MULTI', where, error);
    });
  if (results === null) throw commandError('MULTI', where, new Error('transaction aborted'));
  return results.map(([error, reply], index) => {
    if (error) throw commandError(SNAPSHOT[index] ?? 'MULTI', where, error);
    return reply;
  });
}

const ageMs = (now: number, id: string | undefined): number =>
  id === undefined ? 0 : Math.max(0, now - idTimestampMs(id));

/**
 * RedisStreamStats for one group. The first undelivered entry is looked up only among entries that
 * existed at the snapshot (up to its last-generated-id), so an entry published since does not
 * contradict the lag read with it.
 */
export async function readStreamStats(client: Redis, query: StatsQuery): Promise<RedisStreamStats> {
  const { stream, group, now } = query;
  const where = { stream, group };
  const [streamReply, groupsReply, pendingReply, consumersReply] = await snapshot(client, query, where);
  const info = parseStreamInfo(streamReply, stream);
  const groupInfo = parseGroupsInfo(groupsReply, stream).find((g) => g.name === group);
  if (!groupInfo) {
    throw new RedisStreamsError('REDIS_STREAMS_GROUP_MISSING', 'XINFO GROUPS does not list the group', where);
  }
  const pending = parsePendingSummary(pendingReply, stream);
  const firstUndelivered = successorId(groupInfo.lastDeliveredId);
  const [undeliveredReply, deadLetterReply] = await Promise.all([
    compareIds(firstUndelivered, info.lastGeneratedId) <= 0
      ? sendCommand(client, where, 'XRANGE', [stream, firstUndelivered, info.lastGeneratedId, 'COUNT', 1])
      : [],
    sendCommand(client, { ...where, stream: query.deadLetterKey }, 'XLEN', [query.deadLetterKey]),
  ]);
  const oldestUndeliveredId = parseEntries(undeliveredReply, stream)[0]?.id;
  const oldestUndeliveredAgeMs = ageMs(now, oldestUndeliveredId);
  const lag = crossCheckLag({
    reported: groupInfo.lag,
    lastDeliveredId: groupInfo.lastDeliveredId,
    oldestUndeliveredId,
  });
  return {
    kind: 'redis',
    stream,
    group,
    length: info.length,
    lag,
    pending: pending.count,
    backlog: backlogOf(lag, pending.count),
    oldestPendingAgeMs: ageMs(now, pending.oldestId),
    oldestUndeliveredAgeMs,
    deadLetterLength: asNumber(deadLetterReply, query.deadLetterKey, 'a stream length'),
    lostToTrimming: query.lostToTrimming,
    activeConsumers: activeConsumers(parseConsumersInfo(consumersReply, stream), {
      windowMs: query.activeConsumerWindowMs,
      oldestUndeliveredAgeMs,
    }),
    overCap: query.maxLen !== undefined && info.length > query.maxLen,
  };
}
