import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { TestQueues } from '../adapter/fixtures/test-queues.ts';
import { exampleDelivery, send } from './fixtures/deliveries.ts';
import { webhookEnv, type Env } from './fixtures/pipeline-env.ts';
import { ServiceGroup, type ServiceCommand } from './fixtures/service-process.ts';

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'qs-cli-'));
const noHandler = path.join(scratch, 'no-handler.mjs');
fs.writeFileSync(noHandler, 'export const answer = 42;\n');
afterAll(() => {
  fs.rmSync(scratch, { recursive: true, force: true });
});

const webhookBase: Env = {
  QUEUE_TYPE: 'sqs',
  SQS_QUEUE_URL: 'http://127.0.0.1:9/000000000000/webhooks',
  AWS_REGION: 'us-east-1',
  WEBHOOK_SECRET: 'a-secret',
};
const workerBase: Env = { QUEUE_TYPE: 'redis', REDIS_ADDRESS: '127.0.0.1:6379' };

interface Case {
  name: string;
  command: ServiceCommand;
  env: Env;
  /** Each problem line starts with `invalid configuration: <variable>: `. */
  variables: string[];
}

const CASES: Case[] = [
  { name: 'nothing set', command: 'webhook', env: {}, variables: ['QUEUE_TYPE', 'WEBHOOK_SECRET'] },
  {
    name: 'a webhook in dual',
    command: 'webhook',
    env: { ...webhookBase, QUEUE_TYPE: 'dual' },
    variables: ['QUEUE_TYPE'],
  },
  {
    name: 'a port out of range',
    command: 'webhook',
    env: { ...webhookBase, PORT: '70000' },
    variables: ['PORT'],
  },
  {
    name: 'a secret and a secret file',
    command: 'webhook',
    env: { ...webhookBase, WEBHOOK_SECRET_FILE: noHandler },
    variables: ['WEBHOOK_SECRET_FILE'],
  },
  {
    name: 'a body limit that is not a number, and a bad log level',
    command: 'webhook',
    env: { ...webhookBase, WEBHOOK_MAX_BODY_BYTES: '25MB', LOG_LEVEL: 'loud' },
    variables: ['LOG_LEVEL', 'WEBHOOK_MAX_BODY_BYTES'],
  },
  {
    name: 'a handler module that does not exist',
    command: 'worker',
    env: { ...workerBase, HANDLER_MODULE: path.join(scratch, 'missing.mjs') },
    variables: ['HANDLER_MODULE'],
  },
  {
    name: 'a handler module that exports no handler',
    command: 'worker',
    env: { ...workerBase, HANDLER_MODULE: noHandler },
    variables: ['HANDLER_MODULE'],
  },
  {
    name: 'a Redis address without a port, and a FIFO queue',
    command: 'worker',
    env: {
      QUEUE_TYPE: 'dual',
      REDIS_ADDRESS: 'redis.internal',
      SQS_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/webhooks.fifo',
      AWS_REGION: 'eu-west-1',
    },
    variables: ['REDIS_ADDRESS', 'SQS_QUEUE_URL'],
  },
];

describe('queueshift with an invalid configuration', () => {
  const services = new ServiceGroup();

  afterEach(async () => {
    await services.disposeAll();
  });

  it.each(CASES)(
    '$command, $name: exit code 2, one line per bad variable',
    async ({ command, env, variables }) => {
      const service = services.start(command, env);

      expect(await service.exited).toEqual({ code: 2, signal: null });
      const problems = service.output.map(
        (line) => /^invalid configuration: ([A-Z0-9_]+): \S/.exec(line)?.[1],
      );
      expect(problems.sort()).toEqual([...variables].sort());
    },
  );

  it('an unknown command: exit code 2 with the usage', async () => {
    const service = services.start('operate' as ServiceCommand, {});

    expect(await service.exited).toEqual({ code: 2, signal: null });
    expect(service.output[0]).toMatch(/^usage: queueshift <webhook\|worker\|operator>/);
  });
});

describe('queueshift webhook with its secret in a file', () => {
  const services = new ServiceGroup();
  let queues: TestQueues | undefined;

  afterEach(async () => {
    await services.disposeAll();
    await queues?.cleanup();
  });

  it('verifies signatures with the file’s secret, less the trailing newline of a mounted Secret', async () => {
    queues = await TestQueues.create('sqs');
    const secret = randomUUID();
    const file = path.join(scratch, 'webhook-secret');
    fs.writeFileSync(file, `${secret}\n`, { mode: 0o600 });
    const { WEBHOOK_SECRET: _inline, ...env } = await webhookEnv(queues, { queueType: 'sqs', secret });
    const webhook = await services.startReady('webhook', { ...env, WEBHOOK_SECRET_FILE: file });

    expect(await send(webhook.url('/webhook'), exampleDelivery('push'), secret)).toBe(202);
  });
});
