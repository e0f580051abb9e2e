/**
 * Hung reading connections, on a redis-server of this file's own (a SIGSTOP must not disturb the
 * shared one): the server frozen longer than BLOCK plus grace, and replies of the reading
 * connection swallowed by a proxy, as after a half-open reconnect.
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RedisStreamsConfig } from '../../../src/adapter/config.ts';
import { EnvContext } from '../../env/context.ts';
import { envPaths } from '../../env/paths.ts';
import { freePort, LOOPBACK } from '../../env/ports.ts';
import { stopProcessGroup } from '../../env/processes.ts';
import { NO_EVICTION_NO_SNAPSHOTS, startRedisDaemon } from '../../env/redis.ts';
import type { HostPort } from '../../env/state.ts';
import { environment } from '../../env/test-environment.ts';
import { waitUntil } from '../../env/wait.ts';
import { BackendPool, ConsumerLoop, delivery, RecordingLogger, testConfig } from './redis-streams-support.ts';

const BLOCK_MS = 200;
const GRACE_MS = 300;

/**
 * A TCP proxy in front of Redis that can swallow everything the server sends to the connections
 * that identified themselves as reading connections (CLIENT SETNAME queueshift:stream-reads:…),
 * while commands still reach the server: a read whose reply never arrives.
 */
class ReplySwallowingProxy {
  readonly port: number;
  private readonly server: net.Server;
  private readonly links = new Set<{ client: net.Socket; reader: boolean; swallowed: boolean }>();

  private constructor(server: net.Server, port: number) {
    this.server = server;
    this.port = port;
  }

  static async start(target: HostPort): Promise<ReplySwallowingProxy> {
    const port = await freePort();
    const server = net.createServer();
    const proxy = new ReplySwallowingProxy(server, port);
    server.on('connection', (client) => {
      proxy.link(client, target);
    });
    await new Promise<void>((resolve) => server.listen(port, LOOPBACK, resolve));
    return proxy;
  }

  swallowReaderReplies(): void {
    for (const link of this.links) if (link.reader) link.swallowed = true;
  }

  async close(): Promise<void> {
    for (const link of this.links) link.client.destroy();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private link(client: net.Socket, target: HostPort): void {
    const upstream = net.connect(target.port, target.host);
    const link = { client, reader: false, swallowed: false };
    this.links.add(link);
    client.on('data', (data) => {
      if (data.includes('queueshift:stream-reads:')) link.reader = true;
      upstream.write(data);
    });
    upstream.on('data', (data) => {
      if (!link.swallowed) client.write(data);
    });
    const end = (): void => {
      this.links.delete(link);
      client.destroy();
      upstream.destroy();
    };
    for (const socket of [client, upstream]) socket.on('close', end).on('error', end);
  }
}

describe('redis streams back end: read watchdog', () => {
  let stateDir: string;
  let server: HostPort;
  let serverPid: number;
  const pool = new BackendPool(() => ({ host: server.host, port: server.port }));

  beforeAll(async () => {
    stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'queueshift-watchdog-'));
    // The shared environment's marker: `env:down` also stops this server if a run dies mid-way.
    const ctx = new EnvContext(
      envPaths(undefined, stateDir),
      { startedAt: new Date().toISOString(), marker: environment().marker, daemons: [] },
      () => undefined,
    );
    server = await startRedisDaemon(ctx, {
      name: 'watchdog-redis',
      port: await freePort(),
      directives: NO_EVICTION_NO_SNAPSHOTS,
    });
    serverPid = ctx.state.daemons[0]?.pid ?? 0;
  });

  afterAll(async () => {
    await stopProcessGroup(serverPid);
    fs.rmSync(stateDir, { recursive: true, force: true });
  });

  afterEach(() => pool.cleanup());

  const configOn = (address: HostPort, config: RedisStreamsConfig): RedisStreamsConfig => ({
    ...config,
    connection: { endpoint: { kind: 'standalone', address: { host: address.host, port: address.port } } },
  });

  it('the server frozen (SIGSTOP) past block + grace: the read connection is replaced and consumption resumes', async () => {
    const config = configOn(server, testConfig({ blockMs: BLOCK_MS }));
    const log = new RecordingLogger();
    const consumer = pool.create(config, { logger: log.logger, watchdogGraceMs: GRACE_MS });
    const producer = pool.create(config);
    await consumer.ensureGroup();
    const loop = new ConsumerLoop(consumer);
    try {
      const before = delivery(1);
      await producer.publish(before);
      await loop.handledDelivery(before.deliveryId);

      process.kill(serverPid, 'SIGSTOP');
      try {
        await waitUntil(() => log.find(40, /reading connection replaced/).length > 0, {
          what: 'the watchdog to replace the hung reading connection',
          timeoutMs: 5_000,
        });
      } finally {
        process.kill(serverPid, 'SIGCONT');
      }

      const after = delivery(2);
      await producer.publish(after);
      expect(await loop.handledDelivery(after.deliveryId)).toMatchObject({ deliveryCount: 1 });
      expect(log.find(40, /reading connection replaced/)[0]).toMatchObject({
        reason: `a read outlived its ${BLOCK_MS + GRACE_MS} ms deadline`,
      });
    } finally {
      await loop.close();
    }
  });

  it('a read whose reply is lost on a hung connection: its entries are re-delivered after the replacement', async () => {
    const proxy = await ReplySwallowingProxy.start(server);
    try {
      // A claim time far beyond the test: only the re-read of the consumer's own entries brings it back.
      const config = testConfig({ blockMs: BLOCK_MS, claimIdleMs: 600_000 });
      const consumer = pool.create(configOn({ host: LOOPBACK, port: proxy.port }, config), {
        watchdogGraceMs: GRACE_MS,
      });
      const producer = pool.create(configOn(server, config));
      await consumer.ensureGroup();
      const loop = new ConsumerLoop(consumer);
      try {
        const before = delivery(1);
        await producer.publish(before);
        await loop.handledDelivery(before.deliveryId);

        proxy.swallowReaderReplies();
        const lost = delivery(2);
        await producer.publish(lost);

        expect(await loop.handledDelivery(lost.deliveryId)).toMatchObject({ deliveryCount: 2 });
        expect(loop.errors).toEqual([]);
      } finally {
        await loop.close();
      }
    } finally {
      await proxy.close();
    }
  });
});
