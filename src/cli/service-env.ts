/**
 * The services' own variables (beside the adapter's, see src/adapter/env-config.ts), validated the
 * same way: blank means unset, and every problem names its variable, so one run reports them all.
 */
import {
  duration,
  listenHost,
  nonBlank,
  port,
  problemsOf,
  token,
  type ConfigProblem,
  type Environment,
  wholeNumber,
} from '../adapter/env-fields.ts';
import { z } from 'zod';
import { LOG_LEVELS, type LogLevel } from '../observability/logger.ts';

/** Facts about the machine the parser needs; injectable so parsing stays testable. */
export interface ServiceParseContext {
  fileExists: (path: string) => boolean;
  /** Throws when the file cannot be read. */
  readFile: (path: string) => string;
}

export interface CommonSettings {
  port: number;
  listenHost?: string;
  podName?: string;
  logLevel: LogLevel;
}

export interface WebhookEnvSettings extends CommonSettings {
  secret: string;
  path: string;
  maxBodyBytes: number;
  shutdownDelayMs: number;
}

export interface WorkerEnvSettings extends CommonSettings {
  handlerModule?: string;
  ledgerKey: string;
}

export type SettingsResult<T> = { ok: true; settings: T } | { ok: false; problems: ConfigProblem[] };

/** GitHub caps webhook payloads at 25 MB. */
export const GITHUB_MAX_PAYLOAD_BYTES = 25 * 1024 * 1024;

const common = {
  PORT: port.optional(),
  LISTEN_HOST: listenHost.optional(),
  POD_NAME: token.optional(),
  LOG_LEVEL: z.enum(LOG_LEVELS, `must be one of ${LOG_LEVELS.join(', ')}`).optional(),
};

const webhookVariables = z.object({
  ...common,
  WEBHOOK_PATH: z
    .string()
    .trim()
    .regex(/^\/[A-Za-z0-9._~\-/]*$/, 'must be a URL path such as /webhook')
    .refine(
      (path) => !['/healthz', '/readyz', '/metrics'].includes(path),
      'must not be /healthz, /readyz or /metrics',
    )
    .optional(),
  WEBHOOK_MAX_BODY_BYTES: wholeNumber(1_024, 100 * 1024 * 1024).optional(),
  WEBHOOK_SHUTDOWN_DELAY: duration.optional(),
});

const workerVariables = z.object({
  ...common,
  HANDLER_MODULE: z.string().trim().optional(),
  LEDGER_KEY: token.optional(),
});

function commonSettings(values: z.infer<z.ZodObject<typeof common>>): CommonSettings {
  return {
    port: values.PORT ?? 8080,
    ...(values.LISTEN_HOST !== undefined && { listenHost: values.LISTEN_HOST }),
    ...(values.POD_NAME !== undefined && { podName: values.POD_NAME }),
    logLevel: values.LOG_LEVEL ?? 'info',
  };
}

/** The webhook secret, from WEBHOOK_SECRET or the file WEBHOOK_SECRET_FILE names (one of them). */
function webhookSecret(
  env: Record<string, string>,
  context: ServiceParseContext,
): { secret: string } | ConfigProblem {
  // Not trimmed: whatever GitHub was given is the secret, spaces included.
  const secret = env['WEBHOOK_SECRET'];
  const file = env['WEBHOOK_SECRET_FILE']?.trim();
  if (secret !== undefined && file !== undefined) {
    return {
      variable: 'WEBHOOK_SECRET_FILE',
      message: 'set WEBHOOK_SECRET or WEBHOOK_SECRET_FILE, not both',
    };
  }
  if (secret !== undefined) return { secret };
  if (file === undefined) {
    return {
      variable: 'WEBHOOK_SECRET',
      message: 'is required (or WEBHOOK_SECRET_FILE): the secret configured on GitHub',
    };
  }
  let content: string;
  try {
    content = context.readFile(file);
  } catch (error) {
    return { variable: 'WEBHOOK_SECRET_FILE', message: `cannot read ${file}: ${(error as Error).message}` };
  }
  // A mounted Secret often ends with the newline of the editor that wrote it; GitHub's secret does not.
  const fromFile = content.replace(/\r?\n$/, '');
  if (fromFile.length === 0) return { variable: 'WEBHOOK_SECRET_FILE', message: `${file} is empty` };
  return { secret: fromFile };
}

export function parseWebhookSettings(
  env: Environment,
  context: ServiceParseContext,
): SettingsResult<WebhookEnvSettings> {
  const variables = nonBlank(env);
  const parsed = webhookVariables.safeParse(variables);
  const problems = parsed.success ? [] : problemsOf(parsed.error);
  const secret = webhookSecret(variables, context);
  if ('variable' in secret) problems.push(secret);
  if (!parsed.success || 'variable' in secret) return { ok: false, problems };
  const values = parsed.data;
  return {
    ok: true,
    settings: {
      ...commonSettings(values),
      secret: secret.secret,
      path: values.WEBHOOK_PATH ?? '/webhook',
      maxBodyBytes: values.WEBHOOK_MAX_BODY_BYTES ?? GITHUB_MAX_PAYLOAD_BYTES,
      shutdownDelayMs: values.WEBHOOK_SHUTDOWN_DELAY ?? 0,
    },
  };
}

export function parseWorkerSettings(
  env: Environment,
  context: ServiceParseContext,
): SettingsResult<WorkerEnvSettings> {
  const parsed = workerVariables.safeParse(nonBlank(env));
  const problems = parsed.success ? [] : problemsOf(parsed.error);
  const handlerModule = parsed.data?.HANDLER_MODULE;
  if (handlerModule !== undefined && !context.fileExists(handlerModule)) {
    problems.push({ variable: 'HANDLER_MODULE', message: `file ${handlerModule} does not exist` });
  }
  if (!parsed.success || problems.length > 0) return { ok: false, problems };
  const values = parsed.data;
  return {
    ok: true,
    settings: {
      ...commonSettings(values),
      ...(values.HANDLER_MODULE !== undefined && { handlerModule: values.HANDLER_MODULE }),
      ledgerKey: values.LEDGER_KEY ?? 'queueshift:ledger',
    },
  };
}
