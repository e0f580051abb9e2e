import { createProducer, pause, systemClock, type Clock, type ProducerConfig } from '../adapter/index.ts';
import type { Logger } from 'pino';
import { Registry } from 'prom-client';
import { Readiness } from '../observability/readiness.ts';
import { ServiceServer } from '../observability/service-server.ts';
import {
  READINESS_TIMEOUT_MS,
  untilAborted,
  type ListenSettings,
  type Service,
} from '../observability/service.ts';
import { WebhookMetrics } from './webhook-metrics.ts';
import { WebhookReceiver } from './webhook-receiver.ts';

export interface WebhookSettings {
  listen: ListenSettings;
  /** Never logged. */
  secret: string;
  /** Default /webhook. */
  path: string;
  /** Default GitHub's cap, 25 MB. */
  maxBodyBytes: number;
  /**
   * After SIGTERM: how long to keep serving while unready, so load balancers (a Service's endpoints)
   * stop sending here before connections are refused. Default 0.
   */
  shutdownDelayMs: number;
}

export interface WebhookServiceOptions {
  producer: ProducerConfig;
  settings: WebhookSettings;
  logger: Logger;
  /** Default: the system clock. */
  clock?: Clock;
}

/**
 * Requests still in progress at shutdown get their publish budget to finish, plus this margin to
 * read the rest of their body and write their answer.
 */
const SHUTDOWN_MARGIN_MS = 2_000;

/** `queueshift webhook`: receives GitHub deliveries and publishes them (DESIGN.md §2). */
export class WebhookService implements Service {
  private readonly options: WebhookServiceOptions;

  constructor(options: WebhookServiceOptions) {
    this.options = options;
  }

  async run(signal: AbortSignal): Promise<void> {
    const { producer: config, settings, logger } = this.options;
    const clock = this.options.clock ?? systemClock;
    const registry = new Registry();
    const producer = createProducer(config, { logger, clock });
    try {
      const readiness = new Readiness({
        check: () => producer.ready(),
        timeoutMs: READINESS_TIMEOUT_MS,
        clock,
        logger,
      });
      const receiver = new WebhookReceiver({
        path: settings.path,
        secret: settings.secret,
        maxBodyBytes: settings.maxBodyBytes,
        producer,
        metrics: new WebhookMetrics(registry, config),
        logger,
        clock,
      });
      const server = new ServiceServer({
        ...settings.listen,
        registry,
        readiness,
        logger,
        clock,
        fallback: receiver.handle,
      });
      const port = await server.listen();
      logger.info(
        { port, path: settings.path, queue: config.primary, fallback: config.fallback ?? null },
        'webhook listening',
      );
      await untilAborted(signal);
      readiness.drain();
      if (settings.shutdownDelayMs > 0) {
        logger.info({ delayMs: settings.shutdownDelayMs }, 'shutting down: unready, still serving');
        await pause(clock, settings.shutdownDelayMs);
      }
      logger.info('shutting down: no new connections; finishing requests in progress');
      await server.close(config.publishTimeoutMs + SHUTDOWN_MARGIN_MS);
    } finally {
      await producer.close();
    }
    logger.info('webhook stopped');
  }
}
