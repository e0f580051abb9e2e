import type { Redis } from 'ioredis';

/** What runs a command: a client, or a TurnPipeline in front of one. */
export interface CommandSender {
  call(command: string, ...args: (string | number)[]): Promise<unknown>;
}

/**
 * Sends the commands issued on one client during one event-loop turn in a single write: the socket
 * is corked at the first command of a turn and uncorked at the end of it. The leases, done marks or
 * publishes of a batch of messages then share one round trip, each still its own command with its
 * own reply. Cheaper per command than an ioredis pipeline (no pipeline object, no reply collation),
 * and unlike ioredis's auto-pipelining a turn's commands go out without waiting for the replies to
 * the previous turn's, so the server works on one batch while this process works on another.
 */
export class TurnPipeline implements CommandSender {
  private readonly client: Redis;
  private corked = false;

  constructor(client: Redis) {
    this.client = client;
  }

  call(command: string, ...args: (string | number)[]): Promise<unknown> {
    this.cork();
    return this.client.call(command, ...args);
  }

  private cork(): void {
    // Until the client is ready its commands wait in its offline queue, and go out together anyway.
    if (this.corked || this.client.status !== 'ready') return;
    const socket = this.client.stream;
    socket.cork();
    this.corked = true;
    setImmediate(() => {
      this.corked = false;
      socket.uncork();
    });
  }
}
