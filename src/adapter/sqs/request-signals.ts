import type { Clock } from '../clock.ts';

/** Which of a request's three limits fired. */
export type AbortCause = 'caller' | 'timeout' | 'closed';

export interface RequestScope {
  /** Handed to the SDK; fires on the first of the caller's signal, the time budget, or close(). */
  readonly signal: AbortSignal;
  /** What fired, once something has; tells an abort the caller asked for from a hung server. */
  readonly abortCause: AbortCause | undefined;
  /** Detaches from the caller's signal and clears the timer. Call once the request settled. */
  end(): void;
}

export interface ScopeOptions {
  caller?: AbortSignal | undefined;
  timeoutMs: number;
}

/**
 * One AbortSignal per SQS request. The SDK has no default request timeout, so a server that
 * accepts a connection and never answers would hold a call forever; and a 20 s long poll would
 * hold shutdown unless close() can abort it. Listeners on the caller's signal are removed when the
 * request settles, so a consumer's long-lived signal does not collect one per poll.
 */
export class RequestSignals {
  readonly #clock: Clock;
  readonly #open = new Set<(cause: AbortCause) => void>();
  #closed = false;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  get closed(): boolean {
    return this.#closed;
  }

  open(options: ScopeOptions): RequestScope {
    const controller = new AbortController();
    let cause: AbortCause | undefined;
    const abort = (why: AbortCause): void => {
      if (cause !== undefined) return;
      cause = why;
      controller.abort();
    };
    const onCallerAbort = (): void => {
      abort('caller');
    };
    const timer = this.#clock.schedule(options.timeoutMs, () => {
      abort('timeout');
    });
    const { caller } = options;
    caller?.addEventListener('abort', onCallerAbort, { once: true });
    this.#open.add(abort);
    if (this.#closed) abort('closed');
    else if (caller?.aborted) abort('caller');
    const open = this.#open;
    return {
      signal: controller.signal,
      get abortCause() {
        return cause;
      },
      end() {
        timer.cancel();
        caller?.removeEventListener('abort', onCallerAbort);
        open.delete(abort);
      },
    };
  }

  /** Aborts every open request and every one opened from now on. */
  closeAll(): void {
    this.#closed = true;
    for (const abort of this.#open) abort('closed');
  }
}
