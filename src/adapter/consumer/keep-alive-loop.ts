import type { QueueBackend, ReceivedMessage } from '../types.ts';
import type { Clock, ScheduledTimer } from '../clock.ts';

export interface KeepAliveLoopOptions {
  backend: QueueBackend;
  intervalMs: number;
  clock: Clock;
  onError: (error: unknown) => void;
}

interface Beat {
  messages: ReadonlySet<ReceivedMessage>;
  done: Promise<void>;
}

/**
 * Tells one back end, every interval, which messages are still being worked on, so that their SQS
 * visibility or stream idle time never runs out under a live handler.
 *
 * A heartbeat and a settlement of the same message never cross: a heartbeat that reached the back
 * end after an acknowledgement failed on the settled message (SQS: ReceiptHandleIsInvalid; streams:
 * "no longer pending"), which reads as a lost message, and one that reached it after a retry undid
 * the retry's delay (the message stayed reserved for a whole visibility timeout / claim time).
 */
export class KeepAliveLoop {
  private readonly options: KeepAliveLoopOptions;
  /** Received from the back end and not yet being settled (running, queued or waiting to start). */
  private readonly held = new Set<ReceivedMessage>();
  private beat: Beat | undefined;
  private timer: ScheduledTimer | undefined;
  private running = false;

  constructor(options: KeepAliveLoopOptions) {
    this.options = options;
  }

  /** Messages kept reserved right now. */
  get size(): number {
    return this.held.size;
  }

  start(): void {
    this.running = true;
    this.schedule();
  }

  stop(): void {
    this.running = false;
    this.timer?.cancel();
  }

  keep(message: ReceivedMessage): void {
    this.held.add(message);
  }

  /**
   * Stops keeping `message` reserved, before it is settled: no later heartbeat names it, and this
   * resolves once a heartbeat already on the wire with it has been answered.
   */
  async release(message: ReceivedMessage): Promise<void> {
    this.held.delete(message);
    const beat = this.beat;
    if (beat?.messages.has(message)) await beat.done;
  }

  private schedule(): void {
    if (!this.running) return;
    this.timer = this.options.clock.schedule(this.options.intervalMs, () => {
      void this.send().finally(() => {
        this.schedule();
      });
    });
  }

  private async send(): Promise<void> {
    if (this.held.size === 0) return;
    const { backend, onError } = this.options;
    const messages = new Set(this.held);
    const done = backend.keepAlive([...messages]).catch(onError);
    this.beat = { messages, done };
    await done;
    this.beat = undefined;
  }
}
