import fs from 'node:fs';
import type { Redis } from 'ioredis';

/** One established TCP connection of a process, by port (everything here is on loopback). */
export interface ProcessConnection {
  localPort: number;
  remotePort: number;
}

/** A client as the Redis server lists it (CLIENT LIST). */
export interface RedisClientEntry {
  id: string;
  addr: string;
  name: string;
}

const ESTABLISHED = '01';

const portOf = (hexAddress: string): number => parseInt(hexAddress.split(':')[1] ?? '0', 16);

/** Socket inodes behind the descriptors of `pid`. */
function socketInodes(pid: number): Set<string> {
  const inodes = new Set<string>();
  for (const fd of fs.readdirSync(`/proc/${String(pid)}/fd`)) {
    try {
      const inode = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${String(pid)}/fd/${fd}`))?.[1];
      if (inode !== undefined) inodes.add(inode);
    } catch {
      // closed between the listing and the read
    }
  }
  return inodes;
}

/** The established TCP connections `pid` holds now, from its descriptors and the kernel's tables. */
export function connectionsOf(pid: number): ProcessConnection[] {
  const inodes = socketInodes(pid);
  const found: ProcessConnection[] = [];
  for (const table of ['tcp', 'tcp6']) {
    const file = `/proc/${String(pid)}/net/${table}`;
    if (!fs.existsSync(file)) continue;
    for (const line of fs.readFileSync(file, 'utf8').split('\n').slice(1)) {
      const [, local, remote, state, , , , , , inode] = line.trim().split(/\s+/);
      if (state !== ESTABLISHED || local === undefined || remote === undefined) continue;
      if (inode !== undefined && inodes.has(inode))
        found.push({ localPort: portOf(local), remotePort: portOf(remote) });
    }
  }
  return found;
}

function parseClientList(text: string): RedisClientEntry[] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const fields = new Map(
        line
          .trim()
          .split(' ')
          .map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]),
      );
      return { id: fields.get('id') ?? '', addr: fields.get('addr') ?? '', name: fields.get('name') ?? '' };
    });
}

/**
 * The clients of the Redis server `redis` talks to that are connections of process `pid`: CLIENT
 * LIST's `addr` is the client's side of the connection, so its port is one of `pid`'s local ports.
 * Other processes' clients (other tests' operators use the same connection names) never match.
 */
export async function redisClientsOf(redis: Redis, pid: number): Promise<RedisClientEntry[]> {
  const ports = new Set(connectionsOf(pid).map((c) => c.localPort));
  const clients = parseClientList(String(await redis.client('LIST')));
  return clients.filter((c) => ports.has(Number(c.addr.slice(c.addr.lastIndexOf(':') + 1))));
}
