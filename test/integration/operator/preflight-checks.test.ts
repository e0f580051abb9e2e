import { randomUUID } from 'node:crypto';
import { CreateQueueCommand, DeleteQueueCommand } from '@aws-sdk/client-sqs';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { queueMigrationSpec, type QueueMigrationSpec } from '../../../src/operator/api/spec-schema.ts';
import type { PreflightCheck } from '../../../src/operator/api/status-schema.ts';
import { AdapterQueueFigures } from '../../../src/operator/controller/queue-figures.ts';
import type { RedisSecretMaterial } from '../../../src/operator/kube/redis-secrets.ts';
import { KubeApi } from '../../../src/operator/kube/kube-api.ts';
import { kubeConfigCredentials } from '../../../src/operator/kube/kube-credentials-of-kube-config.ts';
import { PreflightChecks } from '../../../src/operator/preflight/preflight-checks.ts';
import { preflightChecks } from '../../../src/operator/preflight/preflight-verdict.ts';
import { adminKubeConfig } from '../../env/kube/accounts.ts';
import { useTestNamespace } from '../../env/local-node/e2e-support.ts';
import { sqsClient } from '../../env/sqs.ts';
import { required } from '../../env/test-environment.ts';
import { PrivateRedis } from '../services/fixtures/private-redis.ts';

/**
 * The `dual` preflight against the real servers: the facts gathered by the operator's own
 * connections, judged by the pure verdict. A policy change happens only on a private Redis.
 */
describe('the dual preflight against real servers', () => {
  const shared = required('redis').streams;
  const sqsEndpoint = required('sqs');
  const namespace = useTestNamespace('qs-preflight');
  const sqs = sqsClient(sqsEndpoint);
  const figures = new AdapterQueueFigures(pino({ level: 'silent' }));
  const checks = new PreflightChecks({
    api: new KubeApi(kubeConfigCredentials(adminKubeConfig(required('kube')))),
    figures,
  });
  const id = randomUUID().slice(0, 8);
  const stream = `queueshift:test:preflight:${id}`;
  const queues: Record<'standard' | 'fifo' | 'shortRetention', string> = {
    standard: '',
    fifo: '',
    shortRetention: '',
  };
  let lru: PrivateRedis;

  const create = async (name: string, attributes: Record<string, string> = {}): Promise<string> => {
    const created = await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
    if (created.QueueUrl === undefined) throw new Error(`no URL for queue ${name}`);
    return created.QueueUrl;
  };

  beforeAll(async () => {
    // The operator takes SQS credentials from the SDK's default chain, as in production: here, the
    // environment, with the dummy values the emulator accepts.
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'test');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'test');
    lru = await PrivateRedis.start();
    // Its own server: CONFIG SET never touches the shared ones.
    const admin = new Redis({ port: lru.port });
    await admin.config('SET', 'maxmemory-policy', 'allkeys-lru');
    await admin.quit();
    queues.standard = await create(`preflight-${id}`);
    queues.fifo = await create(`preflight-${id}.fifo`, { FifoQueue: 'true' });
    queues.shortRetention = await create(`preflight-short-${id}`, { MessageRetentionPeriod: '60' });
  });

  afterAll(async () => {
    await figures.close();
    await lru.dispose();
    const redis = new Redis(shared);
    await redis.del(stream, `${stream}:dlq`);
    await redis.quit();
    for (const url of Object.values(queues)) await sqs.send(new DeleteQueueCommand({ QueueUrl: url }));
  });

  function spec(
    options: { address?: string; queueUrl?: string; stabilityWindow?: string } = {},
  ): QueueMigrationSpec {
    const parsed = queueMigrationSpec.parse({
      producers: [{ name: 'webhook', container: 'webhook' }],
      consumers: [{ name: 'worker', container: 'worker' }],
      redis: {
        endpoint: { mode: 'standalone', address: options.address ?? `${shared.host}:${shared.port}` },
        stream,
        group: 'workers',
      },
      sqs: { queueUrl: queues.standard, region: sqsEndpoint.region, endpoint: sqsEndpoint.endpoint },
      stages: { cleanup: { stabilityWindow: options.stabilityWindow ?? '30s' } },
    });
    // A FIFO URL never passes the schema (nor the CRD); the check must hold on its own all the same.
    return options.queueUrl === undefined
      ? parsed
      : { ...parsed, sqs: { ...parsed.sqs, queueUrl: options.queueUrl } };
  }

  /**
   * The checks of one preflight, by name, for the migration `name` of the test namespace, with
   * the Secret material the gatherer would have read (none by default).
   */
  async function run(
    name: string,
    migration: QueueMigrationSpec,
    secrets: RedisSecretMaterial = { version: '' },
  ): Promise<Map<string, PreflightCheck>> {
    const key = `${namespace.name}/${name}`;
    figures.useRedisSecrets(key, { known: true, value: secrets });
    const facts = await checks.gather(key, namespace.name, migration);
    return new Map(preflightChecks(migration, facts).map((check) => [check.name, check]));
  }

  it('passes on the shared stream Redis and a standard queue, and creates the stream and group', async () => {
    const found = await run('healthy', spec());
    expect([...found.values()].filter((c) => c.outcome === 'failed')).toEqual([]);
    expect(found.get('redis-eviction-policy')).toMatchObject({
      outcome: 'ok',
      message: 'maxmemory-policy is noeviction',
    });
    // The shared server runs AOF with fsync every second: a bounded loss, reported.
    expect(found.get('redis-persistence')?.message).toMatch(/up to 2000 ms/);
    expect(found.get('redis-stream-group')?.outcome).toBe('ok');
    const redis = new Redis(shared);
    const groups = (await redis.call('XINFO', 'GROUPS', stream)) as unknown[][];
    await redis.quit();
    expect(groups.map((g) => g[1])).toEqual(['workers']);
    expect(found.get('sqs-retention')).toMatchObject({ outcome: 'ok' });
  });

  it('creates nothing in a dry run: the missing stream and group are reported as to be created', async () => {
    const dryRun = { ...spec(), dryRun: true };
    const untouched = `${stream}-dry`;
    dryRun.redis = { ...dryRun.redis, stream: untouched };
    const found = await run('dry-run', dryRun);
    expect(found.get('redis-stream-group')).toMatchObject({
      outcome: 'ok',
      message: expect.stringMatching(/^dry run: group workers/) as string,
    });
    const redis = new Redis(shared);
    const exists = await redis.exists(untouched);
    await redis.quit();
    expect(exists).toBe(0);
  });

  it('fails on a Redis whose maxmemory-policy may evict the stream, and passes once it is fixed', async () => {
    const migration = spec({ address: `127.0.0.1:${lru.port}` });
    expect((await run('lru', migration)).get('redis-eviction-policy')).toMatchObject({
      outcome: 'failed',
      message: expect.stringMatching(/allkeys-lru.*set maxmemory-policy noeviction/) as unknown,
    });
    const admin = new Redis({ port: lru.port });
    await admin.config('SET', 'maxmemory-policy', 'noeviction');
    await admin.quit();
    expect((await run('lru', migration)).get('redis-eviction-policy')?.outcome).toBe('ok');
  });

  it('warns, without failing, when an ACL user may run neither INFO nor CONFIG', async () => {
    // Managed Redis often denies these to application users; the operator cannot tell the policy.
    const admin = new Redis({ port: lru.port });
    await admin.acl('SETUSER', 'limited', 'on', '>limited-pw', '~*', '+@all', '-info', '-config');
    await admin.quit();
    const parsed = spec({ address: `127.0.0.1:${lru.port}` });
    const migration = {
      ...parsed,
      redis: {
        ...parsed.redis,
        username: 'limited',
        passwordSecretRef: { name: 'redis-auth', key: 'password' },
      },
    };
    const found = await run('limited', migration, { password: 'limited-pw', version: '1' });
    expect(found.get('redis-reachable')?.outcome).toBe('ok');
    expect(found.get('redis-eviction-policy')).toMatchObject({
      outcome: 'warning',
      message: expect.stringMatching(
        /^maxmemory-policy unknown \(.*NOPERM.*\); make sure it is noeviction/,
      ) as unknown,
    });
    expect(found.get('redis-stream-group')?.outcome).toBe('ok');
    expect([...found.values()].filter((c) => c.outcome === 'failed')).toEqual([]);
  });

  it('fails on a FIFO queue', async () => {
    expect((await run('fifo', spec({ queueUrl: queues.fifo }))).get('sqs-queue')).toMatchObject({
      outcome: 'failed',
      message: expect.stringContaining('FIFO queues are not supported') as unknown,
    });
  });

  it('fails when the queue keeps messages no longer than the stability window', async () => {
    const found = await run('short', spec({ queueUrl: queues.shortRetention, stabilityWindow: '2m' }));
    expect(found.get('sqs-retention')).toMatchObject({
      outcome: 'failed',
      message: expect.stringContaining(
        'MessageRetentionPeriod 60s is not longer than the stability window 2m',
      ) as unknown,
    });
  });

  it('fails on an unreachable Redis, naming where it looked', async () => {
    const gone = await PrivateRedis.start();
    await gone.dispose();
    expect(
      (await run('gone', spec({ address: `127.0.0.1:${gone.port}` }))).get('redis-reachable'),
    ).toMatchObject({
      outcome: 'failed',
      message: expect.stringContaining(`Redis 127.0.0.1:${gone.port}`) as unknown,
    });
  });

  it('reports an autoscaler that scales a consumer, as a warning', async () => {
    await namespace.tools.kubectl(
      ['apply', '-n', namespace.name, '-f', '-'],
      JSON.stringify({
        apiVersion: 'autoscaling/v2',
        kind: 'HorizontalPodAutoscaler',
        metadata: { name: 'worker-on-sqs' },
        spec: {
          scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'worker' },
          minReplicas: 1,
          maxReplicas: 5,
          metrics: [
            {
              type: 'External',
              external: {
                metric: { name: 'sqs_messages_visible' },
                target: { type: 'AverageValue', averageValue: '10' },
              },
            },
          ],
        },
      }),
    );
    expect((await run('hpa', spec())).get('consumer-autoscalers')).toMatchObject({
      outcome: 'warning',
      message: expect.stringContaining('worker-on-sqs scales worker on sqs_messages_visible') as unknown,
    });
  });
});
