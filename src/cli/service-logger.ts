import type { Environment } from '../adapter/index.ts';
import type { Logger } from 'pino';
import { createLogger } from '../observability/logger.ts';
import type { CommonSettings } from './service-env.ts';

/** Credentials the AWS SDK takes from the environment by itself; no log line may show them either. */
const AWS_CREDENTIAL_VARIABLES = ['AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN'];

/** The service's logger: its level, its pod, and every secret it could come across scrubbed. */
export function serviceLogger(
  service: string,
  settings: CommonSettings,
  secrets: readonly string[],
  env: Environment,
  hostname: string,
): Logger {
  const awsSecrets = AWS_CREDENTIAL_VARIABLES.flatMap((variable) => env[variable] ?? []);
  return createLogger({
    level: settings.logLevel,
    secrets: [...secrets, ...awsSecrets],
    base: { service, pod: settings.podName ?? hostname },
  });
}
