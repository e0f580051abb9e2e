import type { V2HorizontalPodAutoscaler, V2MetricSpec } from '@kubernetes/client-node';
import type { Redis } from 'ioredis';
import { systemClock, type Clock, type Known, type RedisStreamsBackend } from '../../adapter/index.ts';
import { memoryHeadroom } from '../analysis/providers/redis-provider.ts';
import { describeError, withinBudget } from '../analysis/providers/metric-provider.ts';
import type { QueueMigrationSpec } from '../api/spec-schema.ts';
import type { KubeApi } from '../kube/kube-api.ts';
import type { QueueFigures } from '../controller/queue-figures.ts';
import type { ConsumerAutoscaler, PreflightFacts, RedisFacts, SqsFacts } from './preflight-facts.ts';

export interface PreflightChecksOptions {
  api: KubeApi;
  figures: QueueFigures;
  /** Default: the system clock. */
  clock?: Clock;
  /** Budget of each part (Redis, SQS, autoscalers); one that takes longer is unknown. Default 10 s. */
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 10_000;

const known = <T>(value: T): Known<T> => ({ known: true, value });
const unknown = <T>(error: unknown): Known<T> => ({ known: false, reason: describeError(error) });

/** `field:value` of an INFO section, as text. */
function infoText(info: string, field: string): string | undefined {
  return new RegExp(`^${field}:(\\S+)`, 'm').exec(info)?.[1];
}

/**
 * INFO memory carries `maxmemory_policy` and needs only the `info` right, which least-privilege
 * users usually keep; CONFIG GET is the fallback. Managed Redis often denies CONFIG to ACL users
 * (or renames it away): then the policy is unknown and preflight warns instead of failing, since
 * the operator cannot tell a safe server from an unsafe one and refusing would block every
 * migration on such a service.
 */
async function maxmemoryPolicy(client: Redis, memoryInfo: Known<string>): Promise<Known<string>> {
  const fromInfo = memoryInfo.known ? infoText(memoryInfo.value, 'maxmemory_policy') : undefined;
  if (fromInfo !== undefined) return known(fromInfo);
  try {
    const reply = await client.call('CONFIG', 'GET', 'maxmemory-policy');
    const value = Array.isArray(reply) ? (reply[1] as unknown) : undefined;
    return typeof value === 'string'
      ? known(value)
      : unknown('CONFIG GET maxmemory-policy returned no value');
  } catch (error) {
    return unknown(error);
  }
}

/**
 * The stream and group, created from id 0 when missing; a dry run changes nothing, so it only
 * looks whether they are there.
 */
async function readyStreamAndGroup(
  backend: Pick<RedisStreamsBackend, 'ensureGroup' | 'groupExists'>,
  dryRun: boolean,
): Promise<Known<'ready' | 'would-create'>> {
  try {
    if (!dryRun) await backend.ensureGroup();
    else if (!(await backend.groupExists())) return known('would-create');
    return known('ready');
  } catch (error) {
    return unknown(error);
  }
}

function describeRedis(spec: QueueMigrationSpec): string {
  const { redis } = spec;
  const where =
    redis.endpoint.mode === 'standalone'
      ? `Redis ${redis.endpoint.address}`
      : `Redis primary ${redis.endpoint.masterName} via Sentinel`;
  return `${where}${redis.tls === undefined ? '' : ' (TLS)'}${redis.username === undefined ? '' : ` as ${redis.username}`}`;
}

function metricName(metric: V2MetricSpec): string {
  return (
    metric.external?.metric.name ??
    metric.pods?.metric.name ??
    metric.object?.metric.name ??
    metric.resource?.name ??
    metric.containerResource?.name ??
    metric.type
  );
}

/**
 * Gathers what the `dual` preflight judges (preflight-verdict.ts): the stream Redis through the
 * migration's own connection (its auth, TLS and Sentinel settings), the SQS queue through the
 * adapter's verify(), and the HorizontalPodAutoscalers of the namespace that target a consumer.
 * It creates the stream and group (XGROUP CREATE … 0 MKSTREAM) and changes nothing else.
 */
export class PreflightChecks {
  private readonly api: KubeApi;
  private readonly figures: QueueFigures;
  private readonly clock: Clock;
  private readonly timeoutMs: number;

  constructor(options: PreflightChecksOptions) {
    this.api = options.api;
    this.figures = options.figures;
    this.clock = options.clock ?? systemClock;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  async gather(key: string, namespace: string, spec: QueueMigrationSpec): Promise<PreflightFacts> {
    const [redis, sqs, autoscalers] = await Promise.all([
      this.bounded('Redis', this.redis(key, spec)),
      this.bounded('SQS', this.sqs(key, spec)),
      this.bounded('HorizontalPodAutoscalers', this.autoscalers(namespace, spec)),
    ]);
    return { redis, sqs, autoscalers };
  }

  private bounded<T>(what: string, work: Promise<Known<T>>): Promise<Known<T>> {
    return withinBudget(work, this.timeoutMs, this.clock, () =>
      unknown(`${what}: no answer within ${this.timeoutMs} ms`),
    );
  }

  private async redis(key: string, spec: QueueMigrationSpec): Promise<Known<RedisFacts>> {
    try {
      const backend = this.figures.redisBackend(key, spec);
      await backend.ping();
      const client = this.figures.redisClient(key, spec);
      const memoryInfo = await client.info('memory').then(known, unknown<string>);
      const [policy, lossOnRestart, streamAndGroup] = await Promise.all([
        maxmemoryPolicy(client, memoryInfo),
        backend.durability().then((report) => known(report.lossOnRestart), unknown<never>),
        readyStreamAndGroup(backend, spec.dryRun),
      ]);
      return known({
        described: describeRedis(spec),
        maxmemoryPolicy: policy,
        lossOnRestart,
        memoryHeadroom: memoryInfo.known
          ? memoryHeadroom(memoryInfo.value)
          : { kind: 'error', reason: memoryInfo.reason },
        streamAndGroup,
      });
    } catch (error) {
      return unknown(`${describeRedis(spec)}: ${describeError(error)}`);
    }
  }

  private async sqs(key: string, spec: QueueMigrationSpec): Promise<Known<SqsFacts>> {
    try {
      // The back end's constructor refuses a FIFO URL; verify() reads FifoQueue for any other name.
      const profile = await this.figures.sqsBackend(key, spec).verify();
      return known({
        retentionSeconds: profile.retentionSeconds,
        warnings: profile.warnings.map((w) => w.message),
      });
    } catch (error) {
      return unknown(error);
    }
  }

  private async autoscalers(
    namespace: string,
    spec: QueueMigrationSpec,
  ): Promise<Known<readonly ConsumerAutoscaler[]>> {
    const consumers = new Set(spec.consumers.map((c) => c.name));
    try {
      const list = await this.api.request<{ items: V2HorizontalPodAutoscaler[] }>(
        'GET',
        `/apis/autoscaling/v2/namespaces/${namespace}/horizontalpodautoscalers`,
      );
      return known(
        list.items.flatMap((hpa) => {
          const target = hpa.spec.scaleTargetRef;
          if (target.kind !== 'Deployment' || !consumers.has(target.name)) return [];
          // Without metrics an autoscaler scales on CPU (80 % of requests).
          const metrics = hpa.spec.metrics?.map(metricName) ?? ['cpu'];
          return [{ name: hpa.metadata?.name ?? '', deployment: target.name, metrics }];
        }),
      );
    } catch (error) {
      return unknown(error);
    }
  }
}
