import fs from 'node:fs';

export interface ListeningSocket {
  /** As the kernel reports it: `127.0.0.1`, `0.0.0.0`, or a hex IPv6 address. */
  address: string;
  port: number;
  pids: number[];
}

function decodeIpv4(hex: string): string {
  // /proc/net/tcp stores IPv4 addresses little-endian.
  const bytes = hex.match(/../g) ?? [];
  return bytes
    .reverse()
    .map((b) => parseInt(b, 16))
    .join('.');
}

/** TCP sockets in LISTEN state on this machine, with the pids that hold each. */
export function listeningSockets(): ListeningSocket[] {
  const byInode = new Map<string, ListeningSocket>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    if (!fs.existsSync(table)) continue;
    for (const line of fs.readFileSync(table, 'utf8').split('\n').slice(1)) {
      const [, local, , state, , , , , , inode] = line.trim().split(/\s+/);
      if (state !== '0A' || !local || !inode) continue; // 0A = LISTEN
      const [hexAddress = '', hexPort = '0'] = local.split(':');
      const address = hexAddress.length === 8 ? decodeIpv4(hexAddress) : hexAddress;
      byInode.set(inode, { address, port: parseInt(hexPort, 16), pids: [] });
    }
  }
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let fds: string[];
    try {
      fds = fs.readdirSync(`/proc/${entry}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        const inode = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${entry}/fd/${fd}`))?.[1];
        const socket = inode === undefined ? undefined : byInode.get(inode);
        if (socket && !socket.pids.includes(Number(entry))) socket.pids.push(Number(entry));
      } catch {
        // the descriptor closed meanwhile
      }
    }
  }
  return [...byInode.values()];
}

/** The listening sockets held by any of `pids`. */
export function socketsHeldBy(pids: readonly number[]): ListeningSocket[] {
  const wanted = new Set(pids);
  return listeningSockets().filter((s) => s.pids.some((pid) => wanted.has(pid)));
}
