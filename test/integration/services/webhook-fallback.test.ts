import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { BackendKind } from '../../../src/adapter/index.ts';
import { freePort, LOOPBACK } from '../../env/ports.ts';
import { waitUntil } from '../../env/wait.ts';
import { TestQueues } from '../adapter/fixtures/test-queues.ts';
import { exampleDelivery, send, sendAll, type Delivery } from './fixtures/deliveries.ts';
import { requiredSample } from './fixtures/metrics-text.ts';
import { webhookEnv, workerEnv, type Env } from './fixtures/pipeline-env.ts';
import { PrivateRedis } from './fixtures/private-redis.ts';
import { ServiceGroup } from './fixtures/service-process.ts';

const SECRET = randomUUID();
const PUBLISH_TIMEOUT_MS = 2_000;
const EVENTS = ['push', 'pull_request', 'issues', 'issue_comment', 'release', 'workflow_run', 'check_run'];

/** Two real deliveries of each of a few events. */
function deliveries(): Delivery[] {
  return EVENTS.flatMap((event) => [exampleDelivery(event), exampleDelivery(event)]);
}

/**
 * A back end that refuses every publish, for real: a Redis out of memory under noeviction (a
 * private server, so the shared one never fills), or SQS at a port where nothing listens.
 */
class RefusingBackends {
  private redis: PrivateRedis | undefined;

  async refuse(kind: BackendKind, env: Env): Promise<Env> {
    if (kind === 'sqs') return { ...env, AWS_ENDPOINT_URL: `http://${LOOPBACK}:${await freePort()}` };
    this.redis ??= await PrivateRedis.start({ maxmemory: '500kb' });
    return { ...env, REDIS_ADDRESS: this.redis.address };
  }

  async dispose(): Promise<void> {
    await this.redis?.dispose();
    this.redis = undefined;
  }
}

const other = (kind: BackendKind): BackendKind => (kind === 'sqs' ? 'redis' : 'sqs');

describe('publishing while a back end refuses', () => {
  const services = new ServiceGroup();
  const refusing = new RefusingBackends();
  let queues: TestQueues | undefined;

  afterEach(async () => {
    await services.disposeAll();
    await refusing.dispose();
    await queues?.cleanup();
  });

  it.each(['redis', 'sqs'] as const)(
    'primary %s refusing, the other as fallback: every delivery is accepted and handled once',
    async (primary) => {
      queues = await TestQueues.create('dual');
      const fallback = other(primary);
      const webhookBase = await webhookEnv(queues, { queueType: primary, fallback, secret: SECRET });
      // The worker consumes both, as in the migration's canary stage, and suffers the same outage.
      const webhook = services.start('webhook', {
        ...(await refusing.refuse(primary, webhookBase)),
        PUBLISH_TIMEOUT: `${PUBLISH_TIMEOUT_MS}ms`,
      });
      const worker = services.start('worker', await refusing.refuse(primary, await workerEnv(queues)));
      await Promise.all([webhook.waitServing(), worker.waitReady()]);
      const sent = deliveries();

      const statuses = await sendAll(webhook.url('/webhook'), sent, SECRET, 4);

      expect([...statuses.values()].filter((status) => status !== 202)).toEqual([]);
      const test = queues;
      await waitUntil(async () => (await test.ledger()).size === sent.length, {
        what: `${sent.length} deliveries in the ledger`,
      });
      expect(await worker.stop()).toEqual({ code: 0, signal: null });
      expect([...(await test.ledger()).values()].filter((count) => count !== 1)).toEqual([]);
      const metrics = await webhook.metrics();
      expect(requiredSample(metrics, 'webhook_events_fallback_total', { queue_type: fallback })).toBe(
        sent.length,
      );
      expect(requiredSample(metrics, 'webhook_publish_refusals_total', { queue_type: primary })).toBe(
        sent.length,
      );
      expect(requiredSample(metrics, 'webhook_events_failed_total', { queue_type: primary })).toBe(0);
    },
  );

  const NO_QUEUE = [
    { name: 'primary redis refusing, no fallback', primary: 'redis', fallback: undefined },
    { name: 'primary sqs refusing, no fallback', primary: 'sqs', fallback: undefined },
    { name: 'primary redis and fallback sqs both refusing', primary: 'redis', fallback: 'sqs' },
    { name: 'primary sqs and fallback redis both refusing', primary: 'sqs', fallback: 'redis' },
  ] as const;

  it.each(NO_QUEUE)(
    '$name: 503 within the publish budget, counted as failed',
    async ({ primary, fallback }) => {
      queues = await TestQueues.create('dual');
      let env = await webhookEnv(queues, {
        queueType: primary,
        ...(fallback && { fallback }),
        secret: SECRET,
      });
      for (const kind of fallback === undefined ? [primary] : [primary, fallback])
        env = await refusing.refuse(kind, env);
      const webhook = services.start('webhook', { ...env, PUBLISH_TIMEOUT: `${PUBLISH_TIMEOUT_MS}ms` });
      await webhook.waitServing();

      const started = Date.now();
      const status = await send(webhook.url('/webhook'), exampleDelivery('push'), SECRET);

      expect(status).toBe(503);
      expect(Date.now() - started).toBeLessThan(PUBLISH_TIMEOUT_MS + 1_000);
      const metrics = await webhook.metrics();
      expect(requiredSample(metrics, 'webhook_events_failed_total', { queue_type: primary })).toBe(1);
      expect(
        requiredSample(metrics, 'webhook_requests_rejected_total', {
          queue_type: primary,
          reason: 'queue_unavailable',
          status: '503',
        }),
      ).toBe(1);
    },
  );
});
