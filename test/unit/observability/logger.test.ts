import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/observability/logger.ts';

/** Collects the lines a logger writes. */
function capture(): { lines: string[]; destination: Writable } {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  });
  return { lines, destination };
}

describe('the service logger', () => {
  const secret = 'webhook-secret-4f1c';
  const password = 'redis-password-9a7e';

  it('never writes a configured secret, wherever it is logged and at every level', () => {
    const { lines, destination } = capture();
    const logger = createLogger({
      level: 'trace',
      secrets: [secret, password],
      base: { service: 'test' },
      destination,
    });
    const child = logger.child({ component: 'redis' });

    logger.trace(
      { headers: { 'x-hub-signature-256': 'sha256=abc', authorization: `token ${secret}` } },
      'request',
    );
    logger.debug({ connection: { password } }, 'connecting');
    child.info({ options: { nested: { deeply: password } } }, 'options');
    logger.warn({ err: new Error(`AUTH ${password} refused`, { cause: new Error(secret) }) }, 'failed');
    logger.error(`a message quoting ${secret}`);
    logger.fatal({ password, secret }, 'fields named for secrets');

    expect(lines).toHaveLength(6);
    expect(lines.filter((line) => line.includes(secret) || line.includes(password))).toEqual([]);
    expect(lines.join('\n')).toContain('"x-hub-signature-256":"[REDACTED]"');
  });

  it('writes JSON lines with the level name, an ISO time and the base fields', () => {
    const { lines, destination } = capture();
    const logger = createLogger({
      level: 'info',
      secrets: [],
      base: { service: 'webhook', pod: 'web-1' },
      destination,
    });

    logger.debug('not at this level');
    logger.info({ deliveryId: 'd-1' }, 'accepted');

    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] ?? '')).toMatchObject({
      level: 'info',
      time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) as string,
      service: 'webhook',
      pod: 'web-1',
      deliveryId: 'd-1',
      msg: 'accepted',
    });
  });
});
