import type { Clock } from '../adapter/index.ts';

/** "at least one of" checks fail with every cause: name them all. */
function describe(error: unknown): string {
  if (error instanceof AggregateError) return error.errors.map(describe).join('; ');
  return error instanceof Error ? error.message : String(error);
}

/** pino's logger fits. */
export interface ReadinessLogger {
  info(message: string): void;
  warn(fields: { reason: string }, message: string): void;
}

export type ReadinessState = { ready: true } | { ready: false; reason: string };

export interface ReadinessOptions {
  /** Resolves when the service can do its job now; rejects with the reason otherwise. */
  check: () => Promise<void>;
  /** A check that has not answered within this time counts as not ready: a hung back end is down. */
  timeoutMs: number;
  clock: Clock;
  /** Told of every change between ready and not ready. */
  logger: ReadinessLogger;
}

/**
 * Answers /readyz from a live check of the service's dependencies, so that readiness recovers by
 * itself as soon as they answer again. Probes arriving while a check runs share its answer, so a
 * burst of probes costs one round trip per dependency. Once draining, the answer is always no.
 */
export class Readiness {
  private readonly options: ReadinessOptions;
  private draining = false;
  private running: Promise<ReadinessState> | undefined;
  private last: ReadinessState | undefined;

  constructor(options: ReadinessOptions) {
    this.options = options;
  }

  /** From now on not ready: the service is shutting down and should get no new work. */
  drain(): void {
    this.draining = true;
  }

  probe(): Promise<ReadinessState> {
    if (this.draining) return Promise.resolve({ ready: false, reason: 'shutting down' });
    this.running ??= this.run().then((state) => {
      this.running = undefined;
      this.noteChange(state);
      return state;
    });
    return this.running;
  }

  private noteChange(state: ReadinessState): void {
    const { logger } = this.options;
    if (!state.ready && (this.last === undefined || this.last.ready)) {
      logger.warn({ reason: state.reason }, 'not ready');
    } else if (state.ready && this.last?.ready === false) {
      logger.info('ready again');
    }
    this.last = state;
  }

  private async run(): Promise<ReadinessState> {
    const { check, timeoutMs, clock } = this.options;
    let timer: { cancel(): void } | undefined;
    const timedOut = new Promise<ReadinessState>((resolve) => {
      timer = clock.schedule(timeoutMs, () => {
        resolve({ ready: false, reason: `dependencies did not answer within ${timeoutMs} ms` });
      });
    });
    const checked = check().then(
      (): ReadinessState => ({ ready: true }),
      (error: unknown): ReadinessState => ({ ready: false, reason: describe(error) }),
    );
    try {
      return await Promise.race([checked, timedOut]);
    } finally {
      timer?.cancel();
    }
  }
}
