import type { Environment, ParseResult } from '../adapter/index.ts';
import { WebhookService } from '../webhook/webhook-service.ts';
import { configuredSecrets, webhookConfiguration, type EnvContext } from './configuration.ts';
import type { Prepared } from './prepared.ts';
import { serviceLogger } from './service-logger.ts';

/** Beyond the publish budget: the rest of a request, closing connections, closing the producer. */
const STOP_MARGIN_MS = 10_000;

export function prepareWebhook(env: Environment, context: EnvContext): ParseResult<Prepared> {
  const parsed = webhookConfiguration(env, context);
  if (!parsed.ok) return parsed;
  const { producer, settings } = parsed.config;
  const logger = serviceLogger(
    'webhook',
    settings,
    configuredSecrets(parsed.config),
    env,
    context.hostname(),
  );
  const service = new WebhookService({
    producer,
    settings: {
      listen: { port: settings.port, host: settings.listenHost },
      secret: settings.secret,
      path: settings.path,
      maxBodyBytes: settings.maxBodyBytes,
      shutdownDelayMs: settings.shutdownDelayMs,
    },
    logger,
  });
  return {
    ok: true,
    config: {
      service,
      logger,
      stopBudgetMs: settings.shutdownDelayMs + producer.publishTimeoutMs + STOP_MARGIN_MS,
    },
    warnings: parsed.warnings,
  };
}
