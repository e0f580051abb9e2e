import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { LOOPBACK } from '../../env/ports.ts';
import { required } from '../../env/test-environment.ts';
import { TestQueues } from '../adapter/fixtures/test-queues.ts';
import { webhookEnv, workerEnv, type Env } from './fixtures/pipeline-env.ts';
import { PrivateRedis } from './fixtures/private-redis.ts';
import { ServiceGroup, type ServiceProcess } from './fixtures/service-process.ts';
import { TcpGate } from './fixtures/tcp-gate.ts';

/** Several live probes in a row, each a fresh check of the dependencies: all must say ready. */
async function staysReady(service: ServiceProcess): Promise<void> {
  for (let probe = 0; probe < 3; probe += 1) {
    expect((await fetch(service.url('/readyz'))).status).toBe(200);
  }
}

describe('readiness follows the dependencies of each role, and recovers by itself', () => {
  const services = new ServiceGroup();
  const servers: { dispose(): Promise<void> }[] = [];
  let queues: TestQueues | undefined;

  afterEach(async () => {
    await services.disposeAll();
    await Promise.all(servers.splice(0).map((server) => server.dispose()));
    await queues?.cleanup();
  });

  async function privateRedis(): Promise<PrivateRedis> {
    const redis = await PrivateRedis.start();
    servers.push(redis);
    return redis;
  }

  /** The SQS emulator behind a gate the test can close. */
  async function sqsGate(): Promise<TcpGate> {
    const emulator = new URL(required('sqs').endpoint);
    const gate = await TcpGate.open({ host: emulator.hostname, port: Number(emulator.port) });
    servers.push({ dispose: () => gate.close() });
    return gate;
  }

  it('webhook: ready while its primary or its fallback answers, unready when neither does', async () => {
    queues = await TestQueues.create('dual');
    const [stream, gate] = await Promise.all([privateRedis(), sqsGate()]);
    const env: Env = {
      ...(await webhookEnv(queues, { queueType: 'redis', fallback: 'sqs', secret: randomUUID() })),
      REDIS_ADDRESS: stream.address,
      AWS_ENDPOINT_URL: `http://${LOOPBACK}:${gate.port}`,
    };
    const webhook = await services.startReady('webhook', env);

    await stream.kill();
    await staysReady(webhook);

    await gate.close();
    await webhook.waitForAnswer('/readyz', 503);
    await stream.restart();
    await webhook.waitReady();
  });

  it('worker in dual: ready while the idempotency store and at least one back end answer', async () => {
    queues = await TestQueues.create('dual');
    const [stream, idempotency, gate] = await Promise.all([privateRedis(), privateRedis(), sqsGate()]);
    const worker = await services.startReady('worker', {
      ...(await workerEnv(queues)),
      REDIS_ADDRESS: stream.address,
      IDEMPOTENCY_REDIS_ADDRESS: idempotency.address,
      AWS_ENDPOINT_URL: `http://${LOOPBACK}:${gate.port}`,
    });

    await stream.kill();
    await staysReady(worker);
    await gate.close();
    await worker.waitForAnswer('/readyz', 503);
    await gate.open();
    await worker.waitReady();
    await stream.restart();
    await staysReady(worker);

    await idempotency.kill();
    await worker.waitForAnswer('/readyz', 503);
    await idempotency.restart();
    await worker.waitReady();
  });
});
