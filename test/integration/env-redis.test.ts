import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RedisEndpoints } from '../env/state.ts';
import { required } from '../env/test-environment.ts';

type Role = keyof RedisEndpoints;

describe('standalone redis servers', () => {
  const prefix = `env-redis-test:${randomUUID()}:`;
  const clients = new Map<Role, Redis>();
  const client = (role: Role): Redis => {
    const found = clients.get(role);
    if (!found) throw new Error(`no client for ${role}`);
    return found;
  };

  beforeAll(() => {
    const redis = required('redis');
    for (const role of ['streams', 'idempotency'] as const) {
      clients.set(role, new Redis({ host: redis[role].host, port: redis[role].port, lazyConnect: true }));
    }
  });

  afterAll(async () => {
    for (const redis of clients.values()) {
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length > 0) await redis.del(...keys);
      await redis.quit();
    }
  });

  it.each(['streams', 'idempotency'] as const)('%s: a value written is read back', async (role) => {
    const key = `${prefix}${role}:round-trip`;
    await client(role).set(key, 'hello');
    expect(await client(role).get(key)).toBe('hello');
  });

  it('streams: a stream entry is appended and read back through a consumer group', async () => {
    const stream = `${prefix}stream`;
    const id = await client('streams').xadd(stream, '*', 'delivery', '42');
    await client('streams').xgroup('CREATE', stream, 'workers', '0');
    const read = await client('streams').xreadgroup(
      'GROUP',
      'workers',
      'w1',
      'COUNT',
      10,
      'STREAMS',
      stream,
      '>',
    );
    expect(read).toEqual([[stream, [[id, ['delivery', '42']]]]]);
  });

  it('they are distinct servers: a key written to one is absent from the other', async () => {
    const key = `${prefix}only-in-streams`;
    await client('streams').set(key, 'x');
    expect(await client('idempotency').exists(key)).toBe(0);
    const runId = async (role: Role): Promise<string | undefined> =>
      /^run_id:(\w+)/m.exec(await client(role).info('server'))?.[1];
    expect(await runId('streams')).not.toBe(await runId('idempotency'));
  });

  it('never evict; only the stream server persists (append-only, fsync every second)', async () => {
    const settings = async (role: Role): Promise<Record<string, string | undefined>> => {
      const flat = await client(role).config('GET', 'maxmemory-policy', 'appendonly', 'appendfsync', 'save');
      return Object.fromEntries(flat.flatMap((name, i) => (i % 2 === 0 ? [[name, flat[i + 1]]] : [])));
    };
    expect(await settings('streams')).toMatchObject({
      'maxmemory-policy': 'noeviction',
      appendonly: 'yes',
      appendfsync: 'everysec',
      save: '',
    });
    expect(await settings('idempotency')).toMatchObject({
      'maxmemory-policy': 'noeviction',
      appendonly: 'no',
      save: '',
    });
  });
});
