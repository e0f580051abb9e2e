import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { answersPing, withRedis, type RedisConnectionOptions } from '../env/redis.ts';
import type { TlsRedisEndpoint } from '../env/state.ts';
import { required } from '../env/test-environment.ts';
import { tlsRedisOptions } from '../env/tls-redis.ts';

describe('redis with TLS, client certificates and ACLs', () => {
  const endpoint = (): TlsRedisEndpoint => required('tlsRedis');
  const userOptions = (): RedisConnectionOptions => tlsRedisOptions(endpoint());

  it('lets the ACL user, with the client certificate, ping and append to a queueshift:* stream', async () => {
    const stream = `queueshift:env-test:${randomUUID()}`;
    await withRedis(userOptions(), async (redis) => {
      expect(await redis.ping()).toBe('PONG');
      const id = await redis.xadd(stream, '*', 'delivery', '42');
      expect(await redis.xrange(stream, '-', '+')).toEqual([[id, ['delivery', '42']]]);
      await redis.del(stream);
    });
  });

  it('refuses the ACL user keys outside queueshift:* and commands outside its grant', async () => {
    await withRedis(userOptions(), async (redis) => {
      await expect(redis.xadd(`other:${randomUUID()}`, '*', 'f', 'v')).rejects.toThrow(/NOPERM/);
      await expect(redis.get(`queueshift:${randomUUID()}`)).rejects.toThrow(/NOPERM/);
      await expect(redis.flushall()).rejects.toThrow(/NOPERM/);
      await expect(redis.config('GET', 'dir')).rejects.toThrow(/NOPERM/);
    });
  });

  // Each case changes one thing from the working connection, so a refusal has one cause. The
  // server resets a connection that presents no client certificate (TLS 1.3 reports it late).
  const reset = /ECONNRESET|certificate required/;
  const refusals: [string, (base: RedisConnectionOptions) => RedisConnectionOptions, RegExp][] = [
    [
      'without a client certificate',
      (base) => ({ ...base, tls: { ca: fs.readFileSync(endpoint().caFile) } }),
      reset,
    ],
    ['over plain text (there is no plain-text port)', ({ tls: _tls, ...base }) => base, reset],
    ['with a wrong password', (base) => ({ ...base, password: 'not-the-password' }), /WRONGPASS/],
    ['as the default user with any password', (base) => ({ ...base, username: 'default' }), /WRONGPASS/],
    [
      'without credentials (the default user, implicitly)',
      ({ username: _username, password: _password, ...base }) => base,
      /NOAUTH/,
    ],
  ];

  it.each(refusals)('refuses a connection %s', async (_case, change, error) => {
    await expect(answersPing(change(userOptions()))).rejects.toThrow(error);
  });
});
