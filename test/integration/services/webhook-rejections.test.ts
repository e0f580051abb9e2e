import { randomUUID } from 'node:crypto';
import { sign } from '@octokit/webhooks-methods';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestQueues } from '../adapter/fixtures/test-queues.ts';
import { exampleDelivery, githubHeaders, send } from './fixtures/deliveries.ts';
import { requiredSample } from './fixtures/metrics-text.ts';
import { webhookEnv } from './fixtures/pipeline-env.ts';
import { publishedCount } from './fixtures/published-count.ts';
import { ServiceGroup, type ServiceProcess } from './fixtures/service-process.ts';

const SECRET = randomUUID();
const LIMIT_BYTES = 64 * 1024;

interface BadRequest {
  name: string;
  status: number;
  reason: string;
  request: () => Promise<{ path?: string; init: RequestInit }>;
}

const push = (): ReturnType<typeof exampleDelivery> => exampleDelivery('push');

/** A signed push delivery with some headers changed or removed. */
async function signedPush(change: (headers: Record<string, string>) => void): Promise<{ init: RequestInit }> {
  const delivery = push();
  const headers = await githubHeaders(delivery, SECRET);
  change(headers);
  return { init: { method: 'POST', headers, body: delivery.body } };
}

/** A body that passes the limit and then stays open: the answer must not wait for its end. */
function endlessBody(): ReadableStream<Uint8Array> {
  let sent = 0;
  return new ReadableStream({
    async pull(controller) {
      if (sent > 2 * LIMIT_BYTES) return new Promise(() => undefined);
      sent += 16 * 1024;
      controller.enqueue(new Uint8Array(16 * 1024).fill(0x20));
    },
  });
}

const BAD_REQUESTS: BadRequest[] = [
  {
    name: 'a signature of another body',
    status: 401,
    reason: 'signature_invalid',
    request: async () => {
      const other = await sign(SECRET, '{"zen":"another body"}');
      return signedPush((headers) => (headers['X-Hub-Signature-256'] = other));
    },
  },
  {
    name: 'a signature made with the wrong secret',
    status: 401,
    reason: 'signature_invalid',
    request: async () => {
      const delivery = push();
      return {
        init: {
          method: 'POST',
          headers: await githubHeaders(delivery, `not-${SECRET}`),
          body: delivery.body,
        },
      };
    },
  },
  {
    name: 'a signature that is not sha256=<hex>',
    status: 401,
    reason: 'signature_invalid',
    request: () => signedPush((headers) => (headers['X-Hub-Signature-256'] = 'sha1=0123456789abcdef')),
  },
  {
    name: 'no signature',
    status: 401,
    reason: 'signature_missing',
    request: () => signedPush((headers) => delete headers['X-Hub-Signature-256']),
  },
  {
    name: 'a declared body over the limit',
    status: 413,
    reason: 'body_too_large',
    request: async () => {
      const body = JSON.stringify({ padding: 'x'.repeat(4 * LIMIT_BYTES) });
      const headers = await githubHeaders({ deliveryId: randomUUID(), event: 'push', body }, SECRET);
      return { init: { method: 'POST', headers, body } };
    },
  },
  {
    name: 'a chunked body that passes the limit and never ends',
    status: 413,
    reason: 'body_too_large',
    request: async () => {
      const headers = await githubHeaders(push(), SECRET);
      return { init: { method: 'POST', headers, body: endlessBody(), duplex: 'half' } };
    },
  },
  {
    name: 'malformed JSON, signed',
    status: 400,
    reason: 'payload_malformed',
    request: async () => {
      const body = '{"ref": "refs/heads/main",';
      const headers = await githubHeaders({ deliveryId: randomUUID(), event: 'push', body }, SECRET);
      return { init: { method: 'POST', headers, body } };
    },
  },
  {
    name: 'a JSON array instead of an object, signed',
    status: 400,
    reason: 'payload_malformed',
    request: async () => {
      const body = '[1,2,3]';
      const headers = await githubHeaders({ deliveryId: randomUUID(), event: 'push', body }, SECRET);
      return { init: { method: 'POST', headers, body } };
    },
  },
  {
    name: 'no X-GitHub-Delivery',
    status: 400,
    reason: 'delivery_header_invalid',
    request: () => signedPush((headers) => delete headers['X-GitHub-Delivery']),
  },
  {
    name: 'an X-GitHub-Delivery that cannot be a key',
    status: 400,
    reason: 'delivery_header_invalid',
    request: () => signedPush((headers) => (headers['X-GitHub-Delivery'] = 'a}b{c d')),
  },
  {
    name: 'no X-GitHub-Event',
    status: 400,
    reason: 'event_header_invalid',
    request: () => signedPush((headers) => delete headers['X-GitHub-Event']),
  },
  {
    name: 'GET instead of POST',
    status: 405,
    reason: 'method_not_allowed',
    request: () => Promise.resolve({ init: { method: 'GET' } }),
  },
  {
    name: 'a signed delivery to another path',
    status: 404,
    reason: 'not_found',
    request: async () => ({ path: '/hooks/github', ...(await signedPush(() => undefined)) }),
  },
];

describe('requests the webhook refuses', () => {
  const services = new ServiceGroup();
  let queues: TestQueues;
  let webhook: ServiceProcess;

  beforeAll(async () => {
    queues = await TestQueues.create('dual');
    const env = await webhookEnv(queues, { queueType: 'redis', fallback: 'sqs', secret: SECRET });
    webhook = await services.startReady('webhook', { ...env, WEBHOOK_MAX_BODY_BYTES: String(LIMIT_BYTES) });
  });

  afterAll(async () => {
    await services.disposeAll();
    await queues.cleanup();
  });

  it.each(BAD_REQUESTS)('$name: $status, nothing published, counted as $reason', async (bad) => {
    const rejectedBefore = await rejections(bad);
    const { path = '/webhook', init } = await bad.request();

    const response = await fetch(webhook.url(path), init);

    expect(response.status).toBe(bad.status);
    expect(await response.json()).toMatchObject({ error: bad.reason });
    if (bad.status === 405) expect(response.headers.get('allow')).toBe('POST');
    expect(await publishedCount(queues)).toBe(0);
    expect(await rejections(bad)).toBe(rejectedBefore + 1);
  });

  it('lets a client that keeps uploading read its 413, every time', async () => {
    const headers = await githubHeaders(push(), SECRET);
    for (let attempt = 0; attempt < 20; attempt += 1) {
      const response = await fetch(webhook.url('/webhook'), {
        method: 'POST',
        headers,
        body: endlessBody(),
        duplex: 'half',
      });
      expect(response.status).toBe(413);
      expect(await response.json()).toMatchObject({ error: 'body_too_large' });
    }
    expect(await publishedCount(queues)).toBe(0);
  });

  it('publishes a valid delivery on the same webhook (the checks above can see a publish)', async () => {
    expect(await send(webhook.url('/webhook'), push(), SECRET)).toBe(202);
    expect(await publishedCount(queues)).toBe(1);
  });

  async function rejections(bad: BadRequest): Promise<number> {
    return requiredSample(await webhook.metrics(), 'webhook_requests_rejected_total', {
      queue_type: 'redis',
      reason: bad.reason,
      status: String(bad.status),
    });
  }
});
