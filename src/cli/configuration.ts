import {
  parseConsumerEnv,
  parseProducerEnv,
  type ConsumerConfig,
  type Environment,
  type ParseContext,
  type ParseResult,
  type ProducerConfig,
} from '../adapter/index.ts';
import {
  parseWebhookSettings,
  parseWorkerSettings,
  type ServiceParseContext,
  type SettingsResult,
  type WebhookEnvSettings,
  type WorkerEnvSettings,
} from './service-env.ts';

export type EnvContext = ParseContext & ServiceParseContext;

export interface WebhookConfiguration {
  producer: ProducerConfig;
  settings: WebhookEnvSettings;
}

export interface WorkerConfiguration {
  consumer: ConsumerConfig;
  settings: WorkerEnvSettings;
}

/** The adapter's problems and the service's, together: one run names every bad variable. */
function combine<A, S, T>(
  adapter: ParseResult<A>,
  service: SettingsResult<S>,
  build: (adapter: A, settings: S) => T,
): ParseResult<T> {
  if (adapter.ok && service.ok) {
    return { ok: true, config: build(adapter.config, service.settings), warnings: adapter.warnings };
  }
  const problems = [...(adapter.ok ? [] : adapter.problems), ...(service.ok ? [] : service.problems)];
  return { ok: false, problems };
}

export function webhookConfiguration(
  env: Environment,
  context: EnvContext,
): ParseResult<WebhookConfiguration> {
  return combine(
    parseProducerEnv(env, context),
    parseWebhookSettings(env, context),
    (producer, settings) => ({
      producer,
      settings,
    }),
  );
}

export function workerConfiguration(env: Environment, context: EnvContext): ParseResult<WorkerConfiguration> {
  return combine(parseConsumerEnv(env, context), parseWorkerSettings(env, context), (consumer, settings) => ({
    consumer,
    settings,
  }));
}

/** Credentials the configuration holds, which no log line may show. */
export function configuredSecrets(configuration: WebhookConfiguration | WorkerConfiguration): string[] {
  const connections =
    'producer' in configuration
      ? [configuration.producer.redis?.connection]
      : [configuration.consumer.redis?.connection, configuration.consumer.idempotency.connection];
  return [
    ...('secret' in configuration.settings ? [configuration.settings.secret] : []),
    ...connections.flatMap((connection) => (connection?.password === undefined ? [] : [connection.password])),
  ];
}
