import http from 'node:http';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../../src/adapter/clock.ts';
import {
  notificationOf,
  TransitionNotifier,
  type TransitionNotification,
} from '../../../src/operator/controller/transition-notifier.ts';
import { freePort, LOOPBACK } from '../../env/ports.ts';

const OWNER = { apiVersion: 'queueshift.dev/v1alpha1', kind: 'QueueMigration', name: 'webhooks', uid: 'u-1' };
const ENTRY = {
  seq: 7,
  at: '2026-11-26T10:00:00.000Z',
  reason: 'RollbackStarted',
  stage: 'canary' as const,
  step: 0,
  message: 'gate failed: metric error-rate failed: value 0.3, threshold < 0.05 (1 failure(s), limit 0)',
};

const servers: http.Server[] = [];
afterEach(async () => {
  await Promise.all(
    servers.splice(0).map(
      (s) =>
        new Promise((resolve) => {
          s.closeAllConnections();
          s.close(resolve);
        }),
    ),
  );
});

/** A real receiver on a free loopback port; `respond` decides what it answers (or nothing). */
async function receiver(
  respond: (res: http.ServerResponse) => void,
): Promise<{ url: string; received: { headers: http.IncomingHttpHeaders; body: unknown }[] }> {
  const received: { headers: http.IncomingHttpHeaders; body: unknown }[] = [];
  const server = http.createServer((req, res) => {
    let text = '';
    req.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
    req.on('end', () => {
      received.push({ headers: req.headers, body: JSON.parse(text) });
      respond(res);
    });
  });
  servers.push(server);
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, LOOPBACK, resolve));
  return { url: `http://${LOOPBACK}:${port}/hooks`, received };
}

const notifier = new TransitionNotifier({
  clock: systemClock,
  timeoutMs: 1_000,
  logger: pino({ level: 'silent' }),
});
const notification: TransitionNotification = notificationOf('team', OWNER, ENTRY, 'RollingBack');

describe('transition notifications', () => {
  it('POSTs the transition as JSON to the receiver', async () => {
    const { url, received } = await receiver((res) => res.writeHead(204).end());
    expect(await notifier.send(url, notification)).toBe(true);
    expect(received).toEqual([
      {
        headers: expect.objectContaining({ 'content-type': 'application/json' }) as object,
        body: {
          migration: { namespace: 'team', name: 'webhooks', uid: 'u-1' },
          seq: 7,
          at: '2026-11-26T10:00:00.000Z',
          reason: 'RollbackStarted',
          message: ENTRY.message,
          stage: 'canary',
          step: 0,
          phase: 'RollingBack',
        },
      },
    ]);
  });

  it.each([
    { what: 'a receiver that refuses', respond: (res: http.ServerResponse) => res.writeHead(500).end() },
    { what: 'a receiver that never answers (past the time budget)', respond: () => undefined },
  ])('reports $what as not delivered, without throwing', async ({ respond }) => {
    const { url, received } = await receiver(respond);
    expect(await notifier.send(url, notification)).toBe(false);
    expect(received).toHaveLength(1);
  });

  it('reports an unreachable receiver as not delivered', async () => {
    expect(await notifier.send(`http://${LOOPBACK}:${await freePort()}/hooks`, notification)).toBe(false);
  });
});
