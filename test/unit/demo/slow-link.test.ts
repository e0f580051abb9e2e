import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { SlowLink } from '../../../scripts/demo/slow-link.ts';

/** A real loopback server that answers every chunk with itself. */
async function echoServer(): Promise<net.Server> {
  const server = net.createServer((socket) => socket.pipe(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

function connect(address: string): Promise<net.Socket> {
  const [host, port] = address.split(':');
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), host, () => {
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

/** Writes `text` and resolves with the time until `expected` came back in full. */
function roundTrip(socket: net.Socket, text: string, expected = text): Promise<{ ms: number; got: string }> {
  const started = performance.now();
  let got = '';
  return new Promise((resolve) => {
    const onData = (chunk: Buffer): void => {
      got += chunk.toString('utf8');
      if (got.length >= expected.length) {
        socket.off('data', onData);
        resolve({ ms: performance.now() - started, got });
      }
    };
    socket.on('data', onData);
    socket.write(text);
  });
}

describe('the demo’s slow link to the stream Redis', () => {
  const closing: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const close of closing.splice(0)) await close();
  });

  async function linkToEcho(): Promise<{ link: SlowLink; client: net.Socket }> {
    const server = await echoServer();
    const { port } = server.address() as net.AddressInfo;
    const link = await SlowLink.start({ host: '127.0.0.1', port });
    const client = await connect(link.address);
    closing.push(async () => {
      client.destroy();
      await link.close();
      await new Promise((resolve) => server.close(resolve));
    });
    return { link, client };
  }

  it('slows an open connection down once asked, keeping it up', async () => {
    const { link, client } = await linkToEcho();
    const fast = await roundTrip(client, 'PING');
    link.slowDown(300);
    const slow = await roundTrip(client, 'PING');

    expect(fast.ms).toBeLessThan(300);
    expect(slow.ms).toBeGreaterThanOrEqual(295);
    expect(slow.got).toBe('PING');
  });

  it('delivers what was sent in order, however the latency changed in between', async () => {
    const { link, client } = await linkToEcho();
    link.slowDown(120);
    const reply = roundTrip(client, 'a', 'abc');
    link.slowDown(0);
    client.write('b');
    client.write('c');

    expect((await reply).got).toBe('abc');
  });
});
