import type { QueueMigrationStatus } from '../../src/operator/api/status-schema.ts';
import { HELD_CANARY, recordedAt } from '../../test/e2e/support/fault-scenario.ts';
import type { LivePipeline } from '../../test/e2e/support/live-pipeline.ts';
import { QueueSettingsWatch } from '../../test/e2e/support/queue-settings-watch.ts';
import type { KubeEndpoint, RedisServer } from '../../test/env/state.ts';
import { waitUntil } from '../../test/env/wait.ts';
import { SlowLink } from './slow-link.ts';

/** How much later the pipeline's commands reach the stream Redis once the fault is in. */
export const LINK_LATENCY_MS = 300;
/** The gate: 99 % of the webhook's publishes to Redis are acknowledged within this many seconds. */
export const PUBLISH_P99_LIMIT_SECONDS = 0.25;
export const PUBLISH_P99_GATE = 'redis-publish-p99';

/** The PromQL of the gate: the p99 of the namespace's webhook publishes that Redis acknowledged. */
export function publishP99Query(namespace: string): string {
  const selector = `namespace="${namespace}",container="webhook",queue_type="redis"`;
  return `histogram_quantile(0.99, sum by (le) (rate(webhook_event_processing_duration_seconds_bucket{${selector}}[10s])))`;
}

/**
 * The producers are back on SQS once the canary is gone and the webhook Deployment's latest
 * settings, as the watch saw them, are `sqs` with no fallback.
 */
export function producersBackOnSqs(changes: readonly string[]): boolean {
  if (!changes.includes('webhook-canary deleted')) return false;
  return changes.filter((change) => change.startsWith('webhook ')).at(-1) === 'webhook sqs/';
}

/**
 * The rollback story: the demo's pipeline reaches the stream Redis through a link of its own; when
 * the canary starts, that link slows down (a real degradation of the Redis path, not a mocked
 * metric), the canary's publishes slow with it, a PromQL gate on their p99 — read from the real
 * Prometheus scraping the real pods — fails, and the operator rolls back by itself.
 */
export class RollbackStory {
  private readonly link: SlowLink;
  private readonly watch: QueueSettingsWatch;
  /** When the watch saw the producers back on SQS; undefined if it never did. */
  private producersOnSqsAt: Promise<number | undefined> | undefined;
  private injected: string | undefined;

  private constructor(link: SlowLink, watch: QueueSettingsWatch) {
    this.link = link;
    this.watch = watch;
  }

  /** Opens the link to the stream Redis and starts watching the producers' settings. */
  static async prepare(kube: KubeEndpoint, namespace: string, streams: RedisServer): Promise<RollbackStory> {
    const link = await SlowLink.start(streams);
    const watch = await QueueSettingsWatch.start(kube, namespace, ['webhook', 'webhook-canary'], 1);
    return new RollbackStory(link, watch);
  }

  /** The fault in words, once injected. */
  get fault(): string | undefined {
    return this.injected;
  }

  /** The migration's spec over the pipeline's: Redis through the link, the gate, a held canary. */
  spec(pipeline: LivePipeline, prometheusUrl: string): Record<string, unknown> {
    const { redis } = pipeline.migration()['spec'] as { redis: Record<string, unknown> };
    return {
      redis: { ...redis, endpoint: { mode: 'standalone', address: this.link.address } },
      stages: HELD_CANARY,
      analysis: {
        interval: '1s',
        // Until the canary's first publishes are scraped the p99 has no data, which is no verdict.
        inconclusiveLimit: 60,
        prometheus: { url: prometheusUrl },
        metrics: [
          {
            name: PUBLISH_P99_GATE,
            query: publishP99Query(pipeline.namespace),
            threshold: { operator: '<', value: PUBLISH_P99_LIMIT_SECONDS },
            stages: ['canary'],
          },
        ],
      },
    };
  }

  /** Slows the link as soon as the canary carries traffic, and from then on times the retreat. */
  observe(status: QueueMigrationStatus | undefined): void {
    if (this.injected !== undefined || status?.stage !== 'canary' || status.phase !== 'Progressing') return;
    this.link.slowDown(LINK_LATENCY_MS);
    this.injected = `stream Redis link slowed by ${String(LINK_LATENCY_MS)} ms`;
    this.producersOnSqsAt = waitUntil(() => producersBackOnSqs(this.watch.changes) && Date.now(), {
      what: 'the producers to be back on SQS',
      timeoutMs: 600_000,
      intervalMs: 50,
    }).catch(() => undefined);
  }

  /** From the failing verdict (the rollback's start) to every producer on SQS, as the watch saw it. */
  async verdictToSqsMs(status: QueueMigrationStatus): Promise<number | undefined> {
    if (this.producersOnSqsAt === undefined || status.rollback === undefined) return undefined;
    const at = await this.producersOnSqsAt;
    return at === undefined ? undefined : at - Date.parse(status.rollback.startedAt);
  }

  /**
   * The report's notes: the fault, and when the producers' rollout back to SQS had completed (the
   * drain step starts only then), which the Deployment change alone does not tell.
   */
  notes(status: QueueMigrationStatus): string[] {
    if (this.injected === undefined) return [];
    const notes = [`fault during canary: ${this.injected}`];
    if (status.history?.some((h) => h.reason === 'RollbackDrainRedis') === true) {
      const ms = recordedAt(status, 'RollbackDrainRedis') - recordedAt(status, 'RollbackStarted');
      notes.push(`failing verdict → producers' rollout on SQS complete: ${String(ms)} ms (history)`);
    }
    return notes;
  }

  async close(): Promise<void> {
    this.watch.stop();
    await this.link.close();
  }
}
