import http from 'node:http';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { closeAfterDraining } from '../../../src/webhook/linger.ts';

describe('closing a refused request that is still uploading', () => {
  let server: http.Server | undefined;
  afterEach(() => {
    server?.close();
  });

  /** A server that refuses every request at once and drains it for `lingerMs`. */
  async function refusingServer(lingerMs: number): Promise<number> {
    server = http.createServer((req, res) => {
      res.writeHead(413, { 'Content-Length': '0' });
      res.end();
      closeAfterDraining(req, lingerMs);
    });
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
    return (server.address() as net.AddressInfo).port;
  }

  /** Uploads without end; resolves with what the server answered and when the connection closed. */
  function endlessUpload(port: number): Promise<{ answer: string; closedAfterMs: number }> {
    return new Promise((resolve) => {
      const started = Date.now();
      let answer = '';
      const socket = net.connect(port, '127.0.0.1', () => {
        socket.write('POST /webhook HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n');
        const chunk = `4000\r\n${'x'.repeat(0x4000)}\r\n`;
        const pump = (): void => {
          while (!socket.destroyed && socket.write(chunk));
          if (!socket.destroyed) socket.once('drain', pump);
        };
        pump();
      });
      socket.setEncoding('latin1');
      socket.on('data', (data: string) => (answer += data));
      socket.on('error', () => undefined);
      socket.on('close', () => {
        resolve({ answer, closedAfterMs: Date.now() - started });
      });
    });
  }

  it('lets the client read the answer, then cuts the upload off when the time is up', async () => {
    const port = await refusingServer(300);
    const { answer, closedAfterMs } = await endlessUpload(port);
    expect(answer).toMatch(/^HTTP\/1\.1 413 /);
    expect(closedAfterMs).toBeGreaterThanOrEqual(250);
    expect(closedAfterMs).toBeLessThan(3_000);
  });
});
