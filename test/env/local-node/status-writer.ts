import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { errorMessage, statusCode } from './kube-client.ts';
import type { PodStatusWire } from './pod-status.ts';

export interface StatusWriterDeps {
  /** The status as it should be now. */
  compute: () => PodStatusWire;
  /** Sends it (the pods/status subresource). */
  write: (status: PodStatusWire) => Promise<void>;
  /** After a status landed on the API server. */
  written: (status: PodStatusWire) => void;
  log: Logger;
}

/**
 * Writes a pod's status: requests are coalesced, writes serialised, and a status equal to the
 * last one written is not sent again. A failed write is retried; a status the API server refuses
 * (400/422) is dropped until the next change; a pod that is gone (404) ends the writing.
 */
export class StatusWriter {
  private readonly deps: StatusWriterDeps;
  private last = '';
  private dirty = false;
  private writing: Promise<void> | undefined;
  private gone = false;

  constructor(deps: StatusWriterDeps) {
    this.deps = deps;
  }

  request(): void {
    this.dirty = true;
    if (this.gone) return;
    this.writing ??= this.flush().finally(() => {
      this.writing = undefined;
      if (this.dirty && !this.gone) this.request();
    });
  }

  /** Resolves once every status requested so far has been written (or given up on). */
  async settled(): Promise<void> {
    while (this.writing) await this.writing;
  }

  private isDirty(): boolean {
    return this.dirty;
  }

  private async flush(): Promise<void> {
    // Let a burst of changes (a process start and its first probe) land in one write.
    await sleep(20);
    while (this.isDirty()) {
      this.dirty = false;
      const status = this.deps.compute();
      const json = JSON.stringify(status);
      if (json === this.last) continue;
      try {
        await this.deps.write(status);
        this.last = json;
        this.deps.written(status);
      } catch (error) {
        const code = statusCode(error);
        if (code === 404) {
          this.gone = true;
          return;
        }
        if (code === 400 || code === 422) {
          this.deps.log.error({ err: errorMessage(error), status }, 'pod status rejected');
          this.last = json;
          continue;
        }
        this.deps.log.warn({ err: errorMessage(error) }, 'pod status write failed; retrying');
        this.dirty = true;
        await sleep(1_000);
      }
    }
  }
}
