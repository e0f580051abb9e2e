import { withRedis } from '../../env/redis.ts';
import type { HostPort } from '../../env/state.ts';

/** Puts back what a fault changed. */
export type Restore = () => Promise<void>;

function infoNumber(info: string, field: string): number {
  const match = new RegExp(`^${field}:(\\d+)`, 'm').exec(info);
  if (match?.[1] === undefined) throw new Error(`INFO has no ${field}`);
  return Number(match[1]);
}

async function configValue(server: HostPort, name: string): Promise<string> {
  const reply = await withRedis({ port: server.port }, (client) => client.config('GET', name));
  const value = reply[1];
  if (value === undefined) throw new Error(`CONFIG GET ${name} answered nothing`);
  return value;
}

/**
 * Out of memory under `noeviction`: `maxmemory` is lowered to what the server uses now, so every
 * command that needs more memory (XADD among them) is refused with OOM, while reads and
 * acknowledgements go on. Only for a Redis of the test's own (a private environment): it blocks
 * every writer of the server.
 */
export async function exhaustMemory(server: HostPort): Promise<Restore> {
  const before = await configValue(server, 'maxmemory');
  const policy = await configValue(server, 'maxmemory-policy');
  if (policy !== 'noeviction')
    throw new Error(`the stream Redis evicts (${policy}): an OOM fault needs noeviction`);
  await withRedis({ port: server.port }, async (client) => {
    const used = infoNumber(await client.info('memory'), 'used_memory');
    await client.config('SET', 'maxmemory', String(used));
  });
  return async () => {
    await withRedis({ port: server.port }, (client) => client.config('SET', 'maxmemory', before));
  };
}

/** Commands the server refused with OOM since it started (INFO errorstats). */
export async function oomRefusals(server: HostPort): Promise<number> {
  const info = await withRedis({ port: server.port }, (client) => client.info('errorstats'));
  const match = /^errorstat_OOM:count=(\d+)/m.exec(info);
  return Number(match?.[1] ?? 0);
}

/**
 * Switches the server to append-only persistence with `appendfsync always` and writes that into its
 * config file, so that a restart comes back with it; the restore puts the previous setting back
 * (in memory and in the file) without a restart.
 */
export async function fsyncEveryWrite(server: HostPort): Promise<Restore> {
  const [appendonly, appendfsync] = [
    await configValue(server, 'appendonly'),
    await configValue(server, 'appendfsync'),
  ];
  const set = (only: string, fsync: string): Promise<unknown> =>
    withRedis({ port: server.port }, async (client) => {
      await client.config('SET', 'appendonly', only);
      await client.config('SET', 'appendfsync', fsync);
      await client.config('REWRITE');
    });
  await set('yes', 'always');
  return async () => {
    await set(appendonly, appendfsync);
  };
}

/** `appendonly/appendfsync` of the running server, to check what a restart came back with. */
export async function persistenceOf(server: HostPort): Promise<string> {
  return `${await configValue(server, 'appendonly')}/${await configValue(server, 'appendfsync')}`;
}
