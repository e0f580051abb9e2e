import type { QueueBackend, ReceivedMessage } from '../types.ts';
import type { Clock, ScheduledTimer } from '../clock.ts';

export interface KeepAliveLoopOptions {
  backend: QueueBackend;
  /** The messages this consumer holds from `backend` right now (running, queued or settling). */
  held: ReadonlySet<ReceivedMessage>;
  intervalMs: number;
  clock: Clock;
  onError: (error: unknown) => void;
}

/**
 * Tells one back end, every interval, which messages are still being worked on, so that their SQS
 * visibility or stream idle time never runs out under a live handler.
 */
export class KeepAliveLoop {
  private readonly options: KeepAliveLoopOptions;
  private timer: ScheduledTimer | undefined;
  private running = false;

  constructor(options: KeepAliveLoopOptions) {
    this.options = options;
  }

  start(): void {
    this.running = true;
    this.schedule();
  }

  stop(): void {
    this.running = false;
    this.timer?.cancel();
  }

  private schedule(): void {
    if (!this.running) return;
    this.timer = this.options.clock.schedule(this.options.intervalMs, () => {
      void this.beat();
    });
  }

  private async beat(): Promise<void> {
    const { backend, held, onError } = this.options;
    if (held.size > 0) {
      try {
        await backend.keepAlive([...held]);
      } catch (error) {
        onError(error);
      }
    }
    this.schedule();
  }
}
