import net from 'node:net';
import { LOOPBACK } from '../../test/env/ports.ts';
import type { HostPort } from '../../test/env/state.ts';

/**
 * One direction of a connection with a delay: each chunk is written `latencyMs` after it arrived,
 * and never before a chunk that arrived earlier, as on a congested network.
 */
class DelayedPipe {
  private readonly queue: { chunk: Buffer; due: number }[] = [];
  private readonly to: net.Socket;
  private readonly latencyMs: () => number;
  private timer: NodeJS.Timeout | undefined;
  private ended = false;

  constructor(from: net.Socket, to: net.Socket, latencyMs: () => number) {
    this.to = to;
    this.latencyMs = latencyMs;
    from.on('data', (chunk: Buffer) => {
      const last = this.queue.at(-1)?.due ?? 0;
      this.queue.push({ chunk, due: Math.max(Date.now() + this.latencyMs(), last) });
      this.schedule();
    });
    from.on('end', () => {
      this.ended = true;
      if (this.queue.length === 0) to.end();
    });
  }

  close(): void {
    clearTimeout(this.timer);
    this.queue.length = 0;
  }

  private schedule(): void {
    const head = this.queue[0];
    if (this.timer !== undefined || head === undefined) return;
    this.timer = setTimeout(
      () => {
        this.release();
      },
      Math.max(0, head.due - Date.now()),
    );
  }

  private release(): void {
    this.timer = undefined;
    const now = Date.now();
    for (let head = this.queue[0]; head !== undefined && head.due <= now; head = this.queue[0]) {
      this.queue.shift();
      if (!this.to.destroyed) this.to.write(head.chunk);
    }
    if (this.queue.length === 0 && this.ended) this.to.end();
    this.schedule();
  }
}

/**
 * A loopback TCP proxy in front of a server whose link can be slowed down while connections stay
 * up: a real degradation of the network path, confined to the clients pointed at the proxy, so the
 * demo faults its own pipeline's Redis path without touching the server other runs share.
 */
export class SlowLink {
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();
  private latencyMs = 0;

  private constructor(target: HostPort) {
    this.server = net.createServer((client) => {
      const upstream = net.connect(target.port, target.host);
      // Requests are delayed; replies come back as they are, so a round trip costs the latency once.
      const requests = new DelayedPipe(client, upstream, () => this.latencyMs);
      upstream.pipe(client);
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
        socket.on('close', () => {
          this.sockets.delete(socket);
          client.destroy();
          upstream.destroy();
          requests.close();
        });
      }
    });
  }

  static async start(target: HostPort): Promise<SlowLink> {
    const link = new SlowLink(target);
    await new Promise<void>((resolve) => link.server.listen(0, LOOPBACK, resolve));
    return link;
  }

  /** `host:port` for clients. */
  get address(): string {
    return `${LOOPBACK}:${String((this.server.address() as net.AddressInfo).port)}`;
  }

  /** From now on, what clients send reaches the server this much later (existing connections too). */
  slowDown(latencyMs: number): void {
    this.latencyMs = latencyMs;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => {
      this.server.close(() => {
        resolve();
      });
    });
  }
}
