/**
 * The floors of bench/webhook-ingest.ts: the least any webhook must do for what issue 4 asks, with
 * nothing else (no metrics, no time budget, no fallback, no logging, no error handling beyond the
 * answer). `checks`: read the body, verify the signature with @octokit/webhooks-methods, check that
 * the payload is JSON, answer 202. `publish`: the same, then one ioredis XADD of the envelope before
 * answering. What separates queueshift's webhook from the `publish` floor is the cost of its own
 * code; what separates the `checks` floor from the bare server is the cost of the checks alone.
 * Run: `node bench/webhook-ingest-floor-server.ts checks|publish PORT SECRET [REDIS_PORT STREAM]`;
 * prints `listening` when ready.
 */
import http from 'node:http';
import { verify } from '@octokit/webhooks-methods';
import { Redis } from 'ioredis';

const [mode, port, secret, redisPort, stream] = process.argv.slice(2);
if ((mode !== 'checks' && mode !== 'publish') || secret === undefined) {
  throw new Error('usage: webhook-ingest-floor-server.ts checks|publish PORT SECRET [REDIS_PORT STREAM]');
}
const redis = mode === 'publish' ? new Redis({ host: '127.0.0.1', port: Number(redisPort) }) : undefined;

function answer(res: http.ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

async function receive(req: http.IncomingMessage, body: string, res: http.ServerResponse): Promise<void> {
  const signature = req.headers['x-hub-signature-256'];
  if (typeof signature !== 'string' || !(await verify(secret as string, body, signature))) {
    answer(res, 401, '{}');
    return;
  }
  try {
    JSON.parse(body);
  } catch {
    answer(res, 400, '{}');
    return;
  }
  const deliveryId = String(req.headers['x-github-delivery']);
  const event = String(req.headers['x-github-event']);
  if (redis !== undefined && stream !== undefined) {
    const envelope = `{"deliveryId":"${deliveryId}","event":"${event}","receivedAt":"${new Date().toISOString()}","payload":${body}}`;
    await redis.xadd(stream, '*', 'delivery-id', deliveryId, 'body', envelope);
  }
  answer(res, 202, `{"deliveryId":"${deliveryId}"}`);
}

const server = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    receive(req, Buffer.concat(chunks).toString('utf8'), res).catch((error: unknown) => {
      console.error(error);
      answer(res, 500, '{}');
    });
  });
});
server.listen(Number(port), '127.0.0.1', () => {
  console.log('listening');
});
process.on('SIGTERM', () => {
  server.close();
  server.closeAllConnections();
  redis?.disconnect();
});
