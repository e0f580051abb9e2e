import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ReceiveMessageCommand, SendMessageCommand, type Message } from '@aws-sdk/client-sqs';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createConsumer,
  createProducer,
  type Handler,
  type RedisStreamsConfig,
} from '../../src/adapter/index.ts';
import { DELIVERY_ID_ATTRIBUTE } from '../../src/adapter/sqs/message-codec.ts';
import { CRD_NAME } from '../../src/operator/api/names.ts';
import { TestQueues } from '../integration/adapter/fixtures/test-queues.ts';
import { serviceAccountKubeconfig } from '../env/kube/accounts.ts';
import { useTestNamespace } from '../env/local-node/e2e-support.ts';
import { sqsClient } from '../env/sqs.ts';
import { tlsRedisOptions } from '../env/tls-redis.ts';
import { required } from '../env/test-environment.ts';
import { waitUntil } from '../env/wait.ts';
import { CANARY_STATUS } from '../unit/cli/plugin/fixtures/canary-status.ts';
import { minimalSpec } from '../unit/operator/fixtures/migrations.ts';

const CRD_FILE = 'crds/queueshift.dev_queuemigrations.yaml';
const BIN = path.resolve('bin');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

interface StoredMigration {
  metadata: { annotations?: Record<string, string> };
  spec: { paused: boolean } & Record<string, unknown>;
}

// `kubectl queueshift …` exactly as a user runs it: kubectl finds bin/kubectl-queueshift on PATH.
describe('kubectl queueshift against the real API server', () => {
  const kube = required('kube');
  const { name: namespace, tools } = useTestNamespace('qm-plugin');
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'qs-plugin-'));

  const plugin = (args: readonly string[], kubeconfig = kube.kubeconfig): Promise<Run> =>
    new Promise((resolve) => {
      execFile(
        kube.kubectl,
        ['queueshift', ...args],
        {
          env: {
            ...process.env,
            KUBECONFIG: kubeconfig,
            PATH: [BIN, path.dirname(process.execPath), process.env['PATH'] ?? ''].join(path.delimiter),
          },
        },
        (error, stdout, stderr) => {
          resolve({ code: error === null ? 0 : Number(error.code), stdout, stderr });
        },
      );
    });

  const create = (name: string, spec: object): Promise<string> =>
    tools.kubectl(
      ['create', '-f', '-'],
      JSON.stringify({
        apiVersion: 'queueshift.dev/v1alpha1',
        kind: 'QueueMigration',
        metadata: { name, namespace },
        spec,
      }),
    );

  const stored = async (name: string): Promise<StoredMigration> =>
    JSON.parse(await tools.kubectl(['get', 'qm', name, '-n', namespace, '-o', 'json'])) as StoredMigration;

  beforeAll(async () => {
    await tools.kubectl(['apply', '--server-side', '--force-conflicts', '-f', CRD_FILE]);
    await tools.kubectl(['wait', '--for=condition=Established', `crd/${CRD_NAME}`, '--timeout=60s']);
  });

  afterAll(() => {
    fs.rmSync(scratch, { recursive: true, force: true });
  });

  it('shows the stage timeline, gate values and thresholds, and conditions that status holds', async () => {
    await create('timeline', minimalSpec());
    await tools.kubectl([
      'patch',
      'qm',
      'timeline',
      '-n',
      namespace,
      '--subresource=status',
      '--type=merge',
      `--patch=${JSON.stringify({ status: CANARY_STATUS })}`,
    ]);

    const shown = await plugin(['status', 'timeline', '-n', namespace]);

    expect(shown).toMatchObject({ code: 0, stderr: '' });
    expect(shown.stdout).toContain('Phase:       Progressing\n');
    expect(shown.stdout).toContain('Stage:       canary, step 1 (for ');
    expect(shown.stdout).toContain('Backlog:     12\n');
    expect(shown.stdout).toMatch(
      /\n {2}dual +2026-11-26T09:00:00Z +10m\n {2}staging +2026-11-26T09:10:00Z +15m\n {2}canary +2026-11-26T09:25:00Z +\S+ \(current\)\n/,
    );
    expect(shown.stdout).toMatch(
      /analysis +redis-backlog +github-webhooks +failure +1200 +< 1000 +backlog above threshold/,
    );
    expect(shown.stdout).toMatch(/GatesPassing +False +MetricFailed +\S+ +redis-backlog 1200 >= 1000/);

    const listed = await plugin(['list', '-n', namespace]);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/^NAME +PHASE +STAGE/);
    expect(listed.stdout).toMatch(/\ntimeline +Progressing +canary +1 +no +12 +0.4% +/);
    const everywhere = await plugin(['list', '-A']);
    expect(everywhere.stdout).toMatch(new RegExp(`\\n${namespace} +timeline +Progressing +canary`));
  });

  it('pause, resume, promote, abort and retry change exactly spec.paused or their annotation', async () => {
    await create('controls', minimalSpec());
    let before = await stored('controls');

    for (const [action, paused] of [
      ['pause', true],
      ['resume', false],
    ] as const) {
      const run = await plugin([action, 'controls', '-n', namespace]);
      expect(run.code).toBe(0);
      const after = await stored('controls');
      expect(after.spec).toEqual({ ...before.spec, paused });
      expect(after.metadata.annotations).toEqual(before.metadata.annotations);
      before = after;
    }

    const tokens: string[] = [];
    for (const action of ['promote', 'promote', 'abort', 'retry'] as const) {
      const run = await plugin([action, 'controls', '-n', namespace]);
      expect(run.code).toBe(0);
      const token = /with token (\S+);/.exec(run.stdout)?.[1];
      expect(token).toBeDefined();
      tokens.push(token ?? '');
      const after = await stored('controls');
      expect(after.spec).toEqual(before.spec);
      expect(after.metadata.annotations).toEqual({
        ...before.metadata.annotations,
        [`queueshift.dev/${action}`]: token,
      });
      before = after;
    }
    // Every invocation acts once: the same command twice carries two tokens.
    expect(new Set(tokens).size).toBe(tokens.length);
  });

  it('names the object when it is missing or the user may not change it; usage errors exit 2', async () => {
    const missing = await plugin(['status', 'nowhere', '-n', namespace]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe(`error: QueueMigration "nowhere" in namespace "${namespace}" not found\n`);

    await create('guarded', minimalSpec());
    await tools.core.createNamespacedServiceAccount({ namespace, body: { metadata: { name: 'viewer' } } });
    const rbac = [
      {
        kind: 'Role',
        rules: [{ apiGroups: ['queueshift.dev'], resources: ['queuemigrations'], verbs: ['get', 'list'] }],
      },
      {
        kind: 'RoleBinding',
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'viewer' },
        subjects: [{ kind: 'ServiceAccount', name: 'viewer', namespace }],
      },
    ].map((object) => ({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      metadata: { name: 'viewer', namespace },
      ...object,
    }));
    await tools.kubectl(
      ['apply', '-f', '-'],
      JSON.stringify({ apiVersion: 'v1', kind: 'List', items: rbac }),
    );
    const viewer = path.join(scratch, 'viewer.kubeconfig');
    await serviceAccountKubeconfig(kube, { namespace, name: 'viewer' }, viewer);

    expect(await plugin(['status', 'guarded', '-n', namespace], viewer)).toMatchObject({
      code: 0,
      stderr: '',
    });
    const refused = await plugin(['pause', 'guarded', '-n', namespace], viewer);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(
      new RegExp(
        `^error: forbidden to patch QueueMigration "guarded" in namespace "${namespace}": .*cannot patch`,
      ),
    );
    expect((await stored('guarded')).spec.paused).toBe(false);

    const usage = await plugin(['pause']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/^error: pause: missing <name>\nusage: kubectl queueshift/);
  });

  describe('dead letters of both back ends', () => {
    const tls = required('tlsRedis');
    const id = randomUUID();
    const stream = `queueshift:plugin:${id}`;
    const redis = new Redis(tlsRedisOptions(tls));
    let queues: TestQueues | undefined;

    const redisConfig: RedisStreamsConfig = {
      connection: {
        endpoint: { kind: 'standalone', address: { host: tls.host, port: tls.port } },
        username: tls.username,
        password: tls.password,
        tls: { caFile: tls.caFile, certFile: tls.certFile, keyFile: tls.keyFile },
      },
      stream,
      group: 'plugin-workers',
      consumerName: 'plugin-test',
      blockMs: 200,
      claimIdleMs: 2_000,
      maxDeliveries: 3,
    };

    beforeAll(async () => {
      queues = await TestQueues.create('sqs');
      const sqs = queues.sqsConfig();
      // The Redis credentials and certificates reach the plugin only through Secrets.
      const secret = (name: string, data: Record<string, string | Buffer>): Promise<unknown> =>
        tools.core.createNamespacedSecret({
          namespace,
          body: {
            metadata: { name },
            data: Object.fromEntries(
              Object.entries(data).map(([key, value]) => [key, Buffer.from(value).toString('base64')]),
            ),
          },
        });
      await secret('stream-redis-password', { password: tls.password });
      await secret('stream-redis-tls', {
        'ca.crt': fs.readFileSync(tls.caFile),
        'tls.crt': fs.readFileSync(tls.certFile),
        'tls.key': fs.readFileSync(tls.keyFile),
      });
      await create('dead', {
        ...minimalSpec(),
        redis: {
          endpoint: { mode: 'standalone', address: `${tls.host}:${tls.port}` },
          username: tls.username,
          passwordSecretRef: { name: 'stream-redis-password', key: 'password' },
          tls: { secretName: 'stream-redis-tls', certKey: 'tls.crt', keyKey: 'tls.key' },
          stream,
          group: 'plugin-workers',
        },
        sqs: {
          queueUrl: sqs.queueUrl,
          deadLetterQueueUrl: sqs.deadLetterQueueUrl,
          region: sqs.region,
          endpoint: sqs.endpoint,
        },
      });
    });

    afterAll(async () => {
      await redis.del(stream, `${stream}:dlq`);
      redis.disconnect();
      await queues?.cleanup();
    });

    const testQueues = (): TestQueues => {
      if (queues === undefined) throw new Error('the queues were not created');
      return queues;
    };

    it('lists them with their reasons, inspects one, and redrives each back exactly once', async () => {
      const sqs = testQueues().sqsConfig();
      // Dead letters made the real way: published by the adapter, refused by a handler.
      const logger = pino({ level: 'silent' });
      const ids = {
        redis: [1, 2, 3].map((n) => `redis-${id}-${n}`),
        sqs: [1, 2, 3].map((n) => `sqs-${id}-${n}`),
      };
      const body = (deliveryId: string): string =>
        JSON.stringify({ deliveryId, event: 'push', payload: { n: deliveryId } });
      for (const [primary, producerConfig] of [
        ['redis', { primary: 'redis', publishTimeoutMs: 3_000, redis: redisConfig }],
        ['sqs', { primary: 'sqs', publishTimeoutMs: 3_000, sqs }],
      ] as const) {
        const producer = createProducer(producerConfig, { logger });
        for (const deliveryId of ids[primary]) {
          await producer.publish({ deliveryId, body: body(deliveryId), attributes: { event: 'push' } });
        }
        await producer.close();
      }
      const refuse: Handler = (message) =>
        Promise.resolve({ kind: 'dead', reason: `refused by the test handler: ${message.deliveryId}` });
      const consumer = createConsumer(
        { ...testQueues().consumerConfig(), queueType: 'dual', redis: redisConfig },
        refuse,
        {
          logger,
        },
      );
      const stop = new AbortController();
      const running = consumer.run(stop.signal);
      try {
        await waitUntil(
          async () =>
            (await testQueues().deadLetters()).length === 3 && (await redis.xlen(`${stream}:dlq`)) === 3,
          {
            what: 'three dead letters in each dead-letter queue',
            timeoutMs: 30_000,
          },
        );
      } finally {
        stop.abort();
        await running;
        await consumer.close();
      }

      const listed = await plugin(['dlq', 'list', 'dead', '-n', namespace]);
      expect(listed).toMatchObject({ code: 0, stderr: '' });
      for (const deliveryId of [...ids.redis, ...ids.sqs]) {
        expect(listed.stdout).toMatch(
          new RegExp(`${deliveryId} +push +\\S+ +1 +refused by the test handler: ${deliveryId}\\n`),
        );
      }
      const picked = { redis: ids.redis[1] ?? '', sqs: ids.sqs[1] ?? '' };
      const redisLetter = new RegExp(`(\\d+-\\d+) +${picked.redis} `).exec(listed.stdout)?.[1] ?? '';
      const sqsLetter = new RegExp(`([0-9a-f-]{36}) +${picked.sqs} `).exec(listed.stdout)?.[1] ?? '';

      for (const [letter, deliveryId] of [
        [redisLetter, picked.redis],
        [sqsLetter, picked.sqs],
      ] as const) {
        const inspected = await plugin(['dlq', 'inspect', 'dead', letter, '-n', namespace]);
        expect(inspected.code).toBe(0);
        expect(inspected.stdout).toContain(`Id:           ${letter}\n`);
        expect(inspected.stdout).toContain(`Reason:       refused by the test handler: ${deliveryId}\n`);
        expect(inspected.stdout).toContain(
          `Delivery:     ${deliveryId}\nAttributes:   event=push\nBody:\n${body(deliveryId)}\n`,
        );
      }
      const unknown = await plugin(['dlq', 'inspect', 'dead', '0-1', '-n', namespace]);
      expect(unknown.code).toBe(1);
      expect(unknown.stderr).toMatch(/^error: no dead letter 0-1 in stream /);

      // Nothing is lost or doubled: each dead letter is in its main queue exactly once afterwards.
      const [streamEnd] = (await redis.xrevrange(stream, '+', '-', 'COUNT', 1)).map(([entryId]) => entryId);
      const one = await plugin(['dlq', 'redrive', 'dead', sqsLetter, '-n', namespace]);
      expect(one).toMatchObject({ code: 0, stderr: '' });
      expect(one.stdout).toMatch(
        new RegExp(`^sqs ${sqsLetter} -> \\S+ \\(delivery ${picked.sqs}\\)\nredrove 1 dead letter\n$`),
      );
      // The rest, oldest first; the stream's dead letters leave by XTRIM, which the ACL user may run.
      const redriven = await plugin(['dlq', 'redrive', 'dead', '-n', namespace]);
      expect(redriven).toMatchObject({ code: 0, stderr: '' });
      expect(redriven.stdout).toMatch(/\nredrove 5 dead letters\n$/);

      const again = await plugin(['dlq', 'list', 'dead', '-n', namespace]);
      expect(again.stdout.match(/no dead letters/g)).toHaveLength(2);
      expect(await redis.xlen(`${stream}:dlq`)).toBe(0);
      const inStream = await redis.xrange(stream, `(${streamEnd ?? '0-0'}`, '+');
      expect(inStream.map(([, fields]) => fields[fields.indexOf('delivery-id') + 1]).sort()).toEqual(
        [...ids.redis].sort(),
      );
      expect(await testQueues().backlog()).toBe(ids.sqs.length);
      const sqsClientForTest = sqsClient(required('sqs'));
      try {
        const received: Message[] = [];
        await waitUntil(
          async () => {
            const { Messages = [] } = await sqsClientForTest.send(
              new ReceiveMessageCommand({
                QueueUrl: sqs.queueUrl,
                MaxNumberOfMessages: 10,
                WaitTimeSeconds: 1,
                VisibilityTimeout: 60,
                MessageAttributeNames: ['All'],
              }),
            );
            received.push(...Messages);
            return Messages.length === 0 && received.length > 0;
          },
          { what: 'the redriven SQS messages', timeoutMs: 30_000 },
        );
        // As first published: the same body and attributes, without what the dead-lettering added.
        expect(
          received
            .map((message) => ({ body: message.Body, attributes: message.MessageAttributes }))
            .sort((a, b) => String(a.body).localeCompare(String(b.body))),
        ).toEqual(
          [...ids.sqs].sort().map((deliveryId) => ({
            body: body(deliveryId),
            attributes: {
              [DELIVERY_ID_ATTRIBUTE]: { DataType: 'String', StringValue: deliveryId },
              event: { DataType: 'String', StringValue: 'push' },
            },
          })),
        );
      } finally {
        sqsClientForTest.destroy();
      }
    });

    it('leaves a dead letter where it is when its queue refuses to take it back', async () => {
      const sqs = testQueues().sqsConfig();
      const client = sqsClient(required('sqs'));
      let letterId: string | undefined;
      try {
        // A message someone else put in the dead-letter queue, with more attributes than queueshift
        // publishes (SQS allows 10; the adapter refuses more than 6): a real refusal of the publish.
        const attributes = Object.fromEntries(
          Array.from({ length: 7 }, (_, n) => [`a${n}`, { DataType: 'String', StringValue: String(n) }]),
        );
        ({ MessageId: letterId } = await client.send(
          new SendMessageCommand({
            QueueUrl: sqs.deadLetterQueueUrl,
            MessageBody: '{}',
            MessageAttributes: attributes,
          }),
        ));
      } finally {
        client.destroy();
      }
      const depthBefore = await testQueues().backlog();

      const refused = await plugin(['dlq', 'redrive', 'dead', letterId ?? '', '-n', namespace]);

      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(
        new RegExp(
          `^error: publishing dead letter ${letterId ?? ''} back to the queue \\(it stays in the dead-letter queue\\): .*at most 6`,
        ),
      );
      expect(await testQueues().backlog()).toBe(depthBefore);
      const still = await plugin(['dlq', 'inspect', 'dead', letterId ?? '', '-n', namespace]);
      expect(still.code).toBe(0);
      expect(still.stdout).toContain(
        'Reason:       no reason recorded (moved by the queue’s redrive policy)\n',
      );
    });
  });
});
