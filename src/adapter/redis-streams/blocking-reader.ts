import type { Redis } from 'ioredis';
import type { Clock } from '../clock.ts';

export type InterruptReason = 'hung' | 'aborted' | 'closed';

export type ReadOutcome =
  { kind: 'reply'; reply: unknown } | { kind: 'interrupted'; reason: InterruptReason };

export interface BlockingReaderOptions {
  /** Opens a fresh connection: for the first read, and after each replacement. */
  connect: () => Redis;
  /** How long one read may take before its connection is presumed hung: BLOCK plus a grace. */
  deadlineMs: number;
  clock: Clock;
  /**
   * The connection a read was waiting on went away (replaced, or closed under it): the server may
   * have handed that read entries whose reply never arrived, so they sit unseen in the consumer's
   * pending list.
   */
  onConnectionLost: (reason: string) => void;
}

/**
 * Runs blocking commands, one at a time (the caller serialises), on a dedicated connection. A read
 * that outlives its deadline, or that the caller aborts, is abandoned together with its connection:
 * a blocked command cannot be withdrawn (CLIENT UNBLOCK needs rights a least-privilege user lacks),
 * closing the socket makes the server drop it, and only a new connection is sure not to be stuck
 * behind a hung one. The next read opens that connection.
 */
export class BlockingReader {
  private readonly options: BlockingReaderOptions;
  private client: Redis | undefined;
  private interruptCurrent: ((reason: InterruptReason) => void) | undefined;
  private closed = false;

  constructor(options: BlockingReaderOptions) {
    this.options = options;
  }

  read(command: string, args: readonly (string | number)[], signal: AbortSignal): Promise<ReadOutcome> {
    if (this.closed) return Promise.resolve({ kind: 'interrupted', reason: 'closed' });
    if (signal.aborted) return Promise.resolve({ kind: 'interrupted', reason: 'aborted' });
    const client = (this.client ??= this.open());
    return new Promise((resolve, reject) => {
      let settled = false;
      const settle = (): boolean => {
        if (settled) return false;
        settled = true;
        timer.cancel();
        signal.removeEventListener('abort', onAbort);
        this.interruptCurrent = undefined;
        return true;
      };
      const interrupt = (reason: InterruptReason): void => {
        if (!settle()) return;
        this.drop(client, reason);
        resolve({ kind: 'interrupted', reason });
      };
      const onAbort = (): void => {
        interrupt('aborted');
      };
      const timer = this.options.clock.schedule(this.options.deadlineMs, () => {
        interrupt('hung');
      });
      signal.addEventListener('abort', onAbort, { once: true });
      this.interruptCurrent = interrupt;
      client.call(command, ...args).then(
        (reply) => {
          if (settle()) resolve({ kind: 'reply', reply });
        },
        (error: unknown) => {
          if (settle()) reject(error instanceof Error ? error : new Error(String(error)));
        },
      );
    });
  }

  /** Ends a read in progress (it resolves as interrupted) and closes the connection. */
  close(): void {
    this.closed = true;
    this.interruptCurrent?.('closed');
    this.client?.disconnect();
    this.client = undefined;
  }

  private open(): Redis {
    const client = this.options.connect();
    client.on('close', () => {
      // Only a close under a running read can hide a delivery; the reader's own drops report themselves.
      if (this.client === client && this.interruptCurrent !== undefined) {
        this.options.onConnectionLost('the reading connection closed during a read');
      }
    });
    return client;
  }

  private drop(client: Redis, reason: InterruptReason): void {
    if (this.client === client) this.client = undefined;
    client.disconnect();
    this.options.onConnectionLost(
      reason === 'hung'
        ? `a read outlived its ${this.options.deadlineMs} ms deadline`
        : `a read was ${reason}`,
    );
  }
}
