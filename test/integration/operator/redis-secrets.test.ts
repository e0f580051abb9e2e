import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import { Writable } from 'node:stream';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../../src/adapter/clock.ts';
import { DEFAULT_METRICS } from '../../../src/operator/analysis/metric-catalog.ts';
import { RedisProvider } from '../../../src/operator/analysis/providers/redis-provider.ts';
import { queueMigrationSpec } from '../../../src/operator/api/spec-schema.ts';
import { ObservationGatherer } from '../../../src/operator/controller/observation-gatherer.ts';
import { AdapterQueueFigures } from '../../../src/operator/controller/queue-figures.ts';
import type { MigrationObject } from '../../../src/operator/controller/migration-object.ts';
import { KubeApi } from '../../../src/operator/kube/kube-api.ts';
import { kubeConfigCredentials } from '../../../src/operator/kube/kube-credentials-of-kube-config.ts';
import { adminKubeConfig } from '../../env/kube/accounts.ts';
import { useTestNamespace } from '../../env/local-node/e2e-support.ts';
import { required } from '../../env/test-environment.ts';
import { tlsRedisOptions } from '../../env/tls-redis.ts';

/**
 * The operator's Redis connections with the credentials a migration references: the test
 * environment's TLS Redis requires a client certificate signed by its own CA and an ACL user's
 * password, all of which reach the operator only through Secrets in the migration's namespace.
 */
describe('the operator connecting to Redis with the Secrets a migration references', () => {
  const tls = required('tlsRedis');
  const kube = required('kube');
  const namespace = useTestNamespace('qs-secrets');
  const key = `${namespace.name}/tls-migration`;
  const stream = `queueshift:it-secrets:${randomUUID()}`;
  const logLines: string[] = [];
  const logger = pino(
    { level: 'trace' },
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        logLines.push(chunk.toString());
        done();
      },
    }),
  );
  const figures = new AdapterQueueFigures(logger);
  const api = new KubeApi(kubeConfigCredentials(adminKubeConfig(kube)));
  const gatherer = new ObservationGatherer(api, figures);
  const pem = {
    ca: fs.readFileSync(tls.caFile, 'utf8'),
    cert: fs.readFileSync(tls.certFile, 'utf8'),
    key: fs.readFileSync(tls.keyFile, 'utf8'),
  };

  const spec = queueMigrationSpec.parse({
    producers: [{ name: 'webhook', container: 'webhook' }],
    consumers: [{ name: 'worker', container: 'worker' }],
    redis: {
      endpoint: { mode: 'standalone', address: `${tls.host}:${tls.port}` },
      username: tls.username,
      passwordSecretRef: { name: 'redis-auth', key: 'password' },
      tls: { secretName: 'redis-tls', caKey: 'ca.crt', certKey: 'tls.crt', keyKey: 'tls.key' },
      stream,
      group: 'workers',
    },
    // Nothing listens there: the SQS part of the preflight is not what this file looks at.
    sqs: { queueUrl: 'http://127.0.0.1:1/000000000000/unused', region: 'us-east-1' },
  });
  const migration: MigrationObject = {
    apiVersion: 'queueshift.dev/v1alpha1',
    kind: 'QueueMigration',
    metadata: { name: 'tls-migration', namespace: namespace.name, uid: randomUUID() },
    spec,
  };

  const setPassword = (password: string) =>
    namespace.tools.core.replaceNamespacedSecret({
      namespace: namespace.name,
      name: 'redis-auth',
      body: { metadata: { name: 'redis-auth' }, stringData: { password } },
    });

  beforeAll(async () => {
    await namespace.tools.core.createNamespacedSecret({
      namespace: namespace.name,
      body: { metadata: { name: 'redis-auth' }, stringData: { password: tls.password } },
    });
    await namespace.tools.core.createNamespacedSecret({
      namespace: namespace.name,
      body: {
        metadata: { name: 'redis-tls' },
        stringData: { 'ca.crt': pem.ca, 'tls.crt': pem.cert, 'tls.key': pem.key },
      },
    });
  });

  afterAll(async () => {
    await figures.close();
    const admin = new Redis(tlsRedisOptions(tls));
    await admin.del(stream, `${stream}:dlq`);
    await admin.quit();
  });

  it('passes the preflight and reads every built-in metric as a real value', async () => {
    const observed = await gatherer.gather(migration, spec, { phase: 'Pending' });
    const redis = observed.preflight?.redis;
    expect(redis).toMatchObject({
      known: true,
      value: {
        described: `Redis ${tls.host}:${tls.port} (TLS) as ${tls.username}`,
        // INFO memory tells the policy to an ACL user that may not run CONFIG.
        maxmemoryPolicy: { known: true, value: 'noeviction' },
        streamAndGroup: { known: true, value: 'ready' },
      },
    });
    await figures.redisBackend(key, spec).publish({ deliveryId: randomUUID(), body: '{}' });

    const provider = new RedisProvider({
      stats: () => figures.redisStats(key, spec),
      client: () => figures.redisClient(key, spec),
      stream,
      group: 'workers',
      clock: systemClock,
      timeoutMs: 5_000,
    });
    const readings = await provider.measure(DEFAULT_METRICS, {
      window: { start: Date.now() - 10_000, end: Date.now() },
      readyConsumers: [],
    });
    const byName = Object.fromEntries([...readings].map(([name, reading]) => [name, reading]));
    expect(byName).toMatchObject({
      'redis-backlog': { kind: 'value', value: 1 },
      'redis-oldest-pending-age': { kind: 'value', value: 0 },
      'redis-dead-letter-growth': { kind: 'value', value: 0 },
      'redis-lost-to-trimming': { kind: 'value', value: 0 },
      'redis-memory-headroom': { kind: 'value' },
      // No consumer pod is ready yet: not data that is missing, a figure that cannot exist yet.
      'redis-missing-consumers': { kind: 'not-yet' },
    });
    expect(byName['redis-oldest-undelivered-age']?.kind).toBe('value');
  });

  it('re-reads a changed Secret: a wrong password fails the next connection, the right one restores it', async () => {
    await setPassword('not-the-password');
    await gatherer.gather(migration, spec, { phase: 'Progressing', stage: 'dual' });
    await expect(figures.redisStats(key, spec)).rejects.toThrow(/WRONGPASS|invalid username-password/);

    await setPassword(tls.password);
    await gatherer.gather(migration, spec, { phase: 'Progressing', stage: 'dual' });
    expect((await figures.redisStats(key, spec)).backlog).toEqual({ known: true, value: 1 });
    expect(figures.redisUnavailable(key, spec)).toBeUndefined();
  });

  it.each([
    {
      what: 'a missing key',
      redis: { passwordSecretRef: { name: 'redis-auth', key: 'pass' } },
      says: `SECRET_KEY_MISSING: spec.redis.passwordSecretRef: Secret $NS/redis-auth has no key "pass"`,
    },
    {
      what: 'a missing Secret',
      redis: { tls: { secretName: 'absent', caKey: 'ca.crt' } },
      says: 'SECRET_UNREADABLE: spec.redis.tls.caKey: KUBE_API_NOT_FOUND',
    },
  ])('fails the preflight on $what, naming it but no value', async ({ redis, says }) => {
    const broken = queueMigrationSpec.parse({ ...spec, redis: { ...spec.redis, ...redis } });
    const observed = await gatherer.gather(migration, broken, { phase: 'Pending' });
    const named = says.replace('$NS', namespace.name);
    expect(observed.preflight?.redis).toEqual({
      known: false,
      reason: expect.stringContaining(named) as unknown,
    });
    // What a metric provider asks before it opens anything: the reason, not a thrown error.
    expect(figures.redisUnavailable(key, broken)?.startsWith(`SECRETS_UNREAD: ${named}`)).toBe(true);
  });

  it('never logs the password or the private key', () => {
    const logged = logLines.join('\n');
    expect(logLines.length).toBeGreaterThan(0);
    expect(logged).not.toContain(tls.password);
    expect(logged).not.toContain(pem.key.split('\n')[1]);
  });
});
