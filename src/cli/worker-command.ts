import type { Environment, ParseResult } from '../adapter/index.ts';
import { HandlerModuleError, loadHandlerModule, type HandlerModule } from '../worker/handler-module.ts';
import { WorkerService } from '../worker/worker-service.ts';
import { configuredSecrets, workerConfiguration, type EnvContext } from './configuration.ts';
import type { Prepared } from './prepared.ts';
import { serviceLogger } from './service-logger.ts';

/** Beyond the handlers' shutdown grace: acknowledgements, releasing leases, closing connections. */
const STOP_MARGIN_MS = 10_000;

export async function prepareWorker(env: Environment, context: EnvContext): Promise<ParseResult<Prepared>> {
  const parsed = workerConfiguration(env, context);
  if (!parsed.ok) return parsed;
  const { consumer, settings } = parsed.config;
  let handlerModule: HandlerModule | undefined;
  if (settings.handlerModule !== undefined) {
    try {
      handlerModule = await loadHandlerModule(settings.handlerModule);
    } catch (error) {
      if (!(error instanceof HandlerModuleError)) throw error;
      return { ok: false, problems: [{ variable: 'HANDLER_MODULE', message: error.message }] };
    }
  }
  const logger = serviceLogger('worker', settings, configuredSecrets(parsed.config), env, context.hostname());
  const service = new WorkerService({
    consumer,
    settings: {
      listen: { port: settings.port, host: settings.listenHost },
      ledgerKey: settings.ledgerKey,
      handlerModule,
    },
    logger,
  });
  return {
    ok: true,
    config: { service, logger, stopBudgetMs: consumer.workers.shutdownGraceMs + STOP_MARGIN_MS },
    warnings: parsed.warnings,
  };
}
