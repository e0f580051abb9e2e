import type { Redis } from 'ioredis';
import type { Clock, RedisStreamStats } from '../../../adapter/index.ts';
import type { MetricSettings, RedisMeasure } from '../../api/analysis-schema.ts';
import type { Reading } from '../reading.ts';
import { describeError, withinBudget, type MeasureContext, type MetricProvider } from './metric-provider.ts';

export interface RedisProviderOptions {
  /** The adapter's figures of the stream and its group. */
  stats: () => Promise<RedisStreamStats>;
  /**
   * A connection for what the adapter's stats do not carry (INFO memory, pending ids below the
   * stream's first entry), asked for only when such a metric applies. Every call on it is
   * bounded by `timeoutMs`.
   */
  client: () => Redis;
  stream: string;
  group: string;
  clock: Clock;
  timeoutMs: number;
  /**
   * Dead letters the operator itself moved into `<stream>:dlq` from the SQS dead-letter queue (the
   * cleanup sweeps): old failures of the SQS pipeline, not new ones of Redis consumers, so they are
   * left out of dead-letter growth. Default 0.
   */
  importedDeadLetters?: number;
}

const seconds = (ms: number): number => ms / 1_000;

type Answer<T> = { ok: true; value: T } | { ok: false; failed: Reading };

/** The reading from an answer, or the answer's failure as the reading. */
function settle<T>(answer: Answer<T> | undefined, read: (value: T) => Reading): Reading {
  if (answer === undefined) return { kind: 'error', reason: 'not measured' };
  return answer.ok ? read(answer.value) : answer.failed;
}

/** `field:value` lines of INFO. */
function infoField(info: string, field: string): number | undefined {
  const match = new RegExp(`^${field}:(\\d+)`, 'm').exec(info);
  return match?.[1] === undefined ? undefined : Number(match[1]);
}

/** Share of the memory limit still free; without maxmemory, the machine's memory is the limit. */
export function memoryHeadroom(info: string): Reading {
  const used = infoField(info, 'used_memory');
  const max = infoField(info, 'maxmemory') || infoField(info, 'total_system_memory');
  if (used === undefined || max === undefined || max === 0) {
    return { kind: 'no-data', reason: 'INFO memory reports neither maxmemory nor total_system_memory' };
  }
  return { kind: 'value', value: 100 * (1 - used / max), detail: `${used} of ${max} bytes used` };
}

function fromStats(
  measure: RedisMeasure,
  stats: RedisStreamStats,
  readyConsumers: readonly string[],
  importedDeadLetters: number,
): Reading {
  const ages = `oldest pending ${seconds(stats.oldestPendingAgeMs)}s, oldest undelivered ${seconds(stats.oldestUndeliveredAgeMs)}s`;
  switch (measure) {
    case 'backlog':
      // Unknown lag is no data, never 0: the adapter cross-checks it with the first undelivered entry.
      return stats.backlog.known
        ? { kind: 'value', value: stats.backlog.value, detail: `pending ${stats.pending}, ${ages}` }
        : { kind: 'no-data', reason: `lag unknown: ${stats.backlog.reason}` };
    case 'oldest-pending-age-seconds':
      return { kind: 'value', value: seconds(stats.oldestPendingAgeMs) };
    case 'oldest-undelivered-age-seconds':
      return { kind: 'value', value: seconds(stats.oldestUndeliveredAgeMs) };
    case 'dead-letter-growth': {
      const imported = importedDeadLetters === 0 ? '' : `, ${importedDeadLetters} of them swept from SQS`;
      return {
        kind: 'value',
        value: stats.deadLetterLength - importedDeadLetters,
        detail: `${stats.stream}:dlq holds ${stats.deadLetterLength}${imported}`,
      };
    }
    case 'missing-consumers': {
      if (readyConsumers.length === 0) {
        return { kind: 'not-yet', reason: 'no consumer pod has read Redis long enough to be in the group' };
      }
      const active = new Set(stats.activeConsumers);
      const missing = readyConsumers.filter((pod) => !active.has(pod));
      return {
        kind: 'value',
        value: missing.length,
        detail:
          missing.length === 0
            ? `${readyConsumers.length} ready pod(s) all active`
            : `not active in group ${stats.group}: ${missing.join(', ')}`,
      };
    }
    case 'memory-headroom-percent':
    case 'lost-to-trimming':
      return { kind: 'error', reason: `${measure} is not among the stream stats` };
  }
}

/**
 * The built-in metrics of the stream Redis: the adapter's stats in one snapshot, plus INFO memory
 * and a count of pending entries the stream no longer holds. Every part that cannot be read is
 * an error for the metrics that needed it, and for those only.
 */
export class RedisProvider implements MetricProvider {
  readonly name = 'redis';
  private readonly options: RedisProviderOptions;

  constructor(options: RedisProviderOptions) {
    this.options = options;
  }

  handles(metric: MetricSettings): boolean {
    return metric.redis !== undefined;
  }

  async measure(metrics: readonly MetricSettings[], context: MeasureContext): Promise<Map<string, Reading>> {
    const wanted = new Set(metrics.flatMap((m) => (m.redis === undefined ? [] : [m.redis])));
    const needs = (measure: RedisMeasure): boolean => wanted.has(measure);
    const [stats, memory, lost] = await Promise.all([
      [...wanted].some((m) => m !== 'memory-headroom-percent' && m !== 'lost-to-trimming')
        ? this.bounded('stream stats', this.options.stats())
        : undefined,
      needs('memory-headroom-percent')
        ? this.bounded('INFO memory', this.options.client().info('memory'))
        : undefined,
      needs('lost-to-trimming') ? this.bounded('pending entries', this.lostToTrimming()) : undefined,
    ]);
    const readingFor = (measure: RedisMeasure): Reading => {
      if (measure === 'memory-headroom-percent') return settle(memory, memoryHeadroom);
      if (measure === 'lost-to-trimming') return settle(lost, (value) => ({ kind: 'value', value }));
      return settle(stats, (value: RedisStreamStats) =>
        fromStats(measure, value, context.readyConsumers, this.options.importedDeadLetters ?? 0),
      );
    };
    return new Map(
      metrics.map((metric): [string, Reading] => [
        metric.name,
        metric.redis === undefined
          ? { kind: 'error', reason: 'not a Redis figure' }
          : readingFor(metric.redis),
      ]),
    );
  }

  /**
   * Pending entries whose ids lie below the stream's first entry: trimming removed them while a
   * consumer held them, so no one can handle them any more. (An empty stream holds none of them.)
   */
  private async lostToTrimming(): Promise<number> {
    const { stream, group } = this.options;
    const client = this.options.client();
    const info = (await client.call('XINFO', 'STREAM', stream)) as unknown[];
    const at = info.indexOf('first-entry');
    const first = at >= 0 ? ((info[at + 1] ?? null) as unknown[] | null) : null;
    if (first === null) {
      const summary = (await client.call('XPENDING', stream, group)) as unknown[];
      return Number(summary[0] ?? 0);
    }
    const pending = (await client.call(
      'XPENDING',
      stream,
      group,
      '-',
      `(${String(first[0])}`,
      '10000',
    )) as unknown[];
    return pending.length;
  }

  private async bounded<T>(what: string, work: Promise<T>): Promise<Answer<T>> {
    const { timeoutMs, clock, stream } = this.options;
    const answered = work.then(
      (value): Answer<T> => ({ ok: true, value }),
      (error: unknown): Answer<T> => ({
        ok: false,
        failed: { kind: 'error', reason: `${what} of ${stream}: ${describeError(error)}` },
      }),
    );
    return withinBudget(answered, timeoutMs, clock, () => ({
      ok: false,
      failed: { kind: 'error', reason: `${what} of ${stream}: no answer within ${timeoutMs} ms` },
    }));
  }
}
