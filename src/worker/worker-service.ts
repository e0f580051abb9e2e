import {
  createConsumer,
  systemClock,
  type BackendKind,
  type Clock,
  type ConsumerConfig,
} from '../adapter/index.ts';
import type { Logger } from 'pino';
import { Registry } from 'prom-client';
import { Readiness } from '../observability/readiness.ts';
import { ServiceServer } from '../observability/service-server.ts';
import { READINESS_TIMEOUT_MS, type ListenSettings, type Service } from '../observability/service.ts';
import type { HandlerModule } from './handler-module.ts';
import { handlerRoutes, routeByEvent } from './handler-router.ts';
import { watchConsumer } from './worker-metrics.ts';

export interface WorkerSettings {
  listen: ListenSettings;
  /** Hash the ledger handler counts deliveries in (on the idempotency Redis). */
  ledgerKey: string;
  /** The user's handlers, when HANDLER_MODULE is set. */
  handlerModule?: HandlerModule | undefined;
}

export interface WorkerServiceOptions {
  consumer: ConsumerConfig;
  settings: WorkerSettings;
  logger: Logger;
  /** Default: the system clock. */
  clock?: Clock;
}

/** The HTTP server outlives the consumer's drain (metrics stay scrapeable); then it closes at once. */
const SERVER_CLOSE_GRACE_MS = 1_000;

function consumedKinds(config: ConsumerConfig): BackendKind[] {
  return config.queueType === 'dual' ? ['sqs', 'redis'] : [config.queueType];
}

/** `queueshift worker`: the consumer pool with handlers chosen by event (DESIGN.md §2). */
export class WorkerService implements Service {
  private readonly options: WorkerServiceOptions;

  constructor(options: WorkerServiceOptions) {
    this.options = options;
  }

  async run(signal: AbortSignal): Promise<void> {
    const { consumer: config, settings, logger } = this.options;
    const clock = this.options.clock ?? systemClock;
    const registry = new Registry();
    const pool = createConsumer(
      config,
      routeByEvent(handlerRoutes(settings.ledgerKey, settings.handlerModule)),
      {
        logger,
        clock,
      },
    );
    watchConsumer(pool, registry, consumedKinds(config));
    const readiness = new Readiness({
      check: () => pool.ready(),
      timeoutMs: READINESS_TIMEOUT_MS,
      clock,
      logger,
    });
    const server = new ServiceServer({ ...settings.listen, registry, readiness, logger, clock });
    const drain = (): void => {
      readiness.drain();
      logger.info(
        { graceMs: config.workers.shutdownGraceMs },
        'shutting down: no new fetches; finishing handlers in progress',
      );
    };
    signal.addEventListener('abort', drain, { once: true });
    try {
      const port = await server.listen();
      logger.info(
        {
          port,
          queue: config.queueType,
          workers: config.workers.count,
          handlerModule: settings.handlerModule !== undefined,
        },
        'worker consuming',
      );
      await pool.run(signal);
    } finally {
      signal.removeEventListener('abort', drain);
      await Promise.all([pool.close(), server.close(SERVER_CLOSE_GRACE_MS)]);
    }
    logger.info('worker stopped');
  }
}
