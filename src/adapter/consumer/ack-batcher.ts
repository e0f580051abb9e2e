import { setImmediate } from 'node:timers/promises';
import type { QueueBackend, ReceivedMessage } from '../types.ts';

interface PendingAck {
  message: ReceivedMessage;
  resolve: () => void;
  reject: (error: Error) => void;
}

/**
 * Acknowledges one back end's messages in batches without a timer: the first acknowledgement waits
 * only for the end of the current event-loop turn (the done marks answered by one reply all come
 * due in the same turn), and whatever arrives while a batch is on the wire rides in the next one.
 * Under load batches fill up; at rest no acknowledgement waits for another.
 */
export class AckBatcher {
  private readonly backend: QueueBackend;
  private readonly maxBatch: number;
  private readonly queue: PendingAck[] = [];
  private draining: Promise<void> | undefined;

  constructor(backend: QueueBackend, maxBatch: number) {
    this.backend = backend;
    this.maxBatch = maxBatch;
  }

  /** Resolves once this message is acknowledged; rejects with the back end's reason otherwise. */
  ack(message: ReceivedMessage): Promise<void> {
    const acked = new Promise<void>((resolve, reject) => {
      this.queue.push({ message, resolve, reject });
    });
    this.draining ??= this.drain().finally(() => {
      this.draining = undefined;
    });
    return acked;
  }

  /** Resolves when no acknowledgement is queued or on the wire. */
  async idle(): Promise<void> {
    while (this.draining !== undefined) await this.draining;
  }

  private async drain(): Promise<void> {
    await setImmediate();
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.maxBatch);
      // Keyed by receipt: a back end may report failures on copies of the messages it was given.
      let failures: Map<string, Error>;
      try {
        const failed = await this.backend.ack(batch.map((pending) => pending.message));
        failures = new Map(failed.map((failure) => [failure.message.receipt, failure.error]));
      } catch (error) {
        const reason = error instanceof Error ? error : new Error(String(error));
        failures = new Map(batch.map((pending) => [pending.message.receipt, reason]));
      }
      for (const pending of batch) {
        const failure = failures.get(pending.message.receipt);
        if (failure === undefined) pending.resolve();
        else pending.reject(failure);
      }
    }
  }
}
