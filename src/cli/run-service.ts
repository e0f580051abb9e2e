import type { Logger } from 'pino';
import type { Service } from '../observability/service.ts';

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;

/**
 * Runs a service until SIGTERM or SIGINT, then lets it shut down gracefully. If the shutdown
 * outlives `stopBudgetMs` (something hangs), or a second signal arrives, the process exits at once
 * with a failure status: a pod that ignores its termination is worse than one that reports it.
 */
export async function runService(service: Service, logger: Logger, stopBudgetMs: number): Promise<number> {
  const stop = new AbortController();
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stop.signal.aborted) {
      logger.error({ signal }, 'second signal during shutdown: exiting now');
      process.exit(EXIT_FAILED);
    }
    logger.info({ signal }, 'signal received');
    stop.abort();
    setTimeout(() => {
      logger.error({ budgetMs: stopBudgetMs }, 'shutdown took longer than its budget: exiting now');
      process.exit(EXIT_FAILED);
    }, stopBudgetMs).unref();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  try {
    await service.run(stop.signal);
    return EXIT_OK;
  } catch (error) {
    logger.fatal({ err: error }, 'the service failed');
    return EXIT_FAILED;
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  }
}
