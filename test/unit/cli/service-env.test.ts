import { describe, expect, it } from 'vitest';
import {
  GITHUB_MAX_PAYLOAD_BYTES,
  parseWebhookSettings,
  parseWorkerSettings,
  type ServiceParseContext,
} from '../../../src/cli/service-env.ts';

const files: Record<string, string> = {
  '/var/run/secrets/webhook/secret': 's3cr3t with spaces \n',
  '/var/run/secrets/webhook/empty': '\n',
  '/app/handlers.mjs': 'export const handler = () => {}',
};

const context: ServiceParseContext = {
  fileExists: (path) => path in files,
  readFile: (path) => {
    const content = files[path];
    if (content === undefined) throw new Error(`ENOENT: no such file or directory, open '${path}'`);
    return content;
  },
};

describe('webhook settings from the environment', () => {
  it('has defaults for everything but the secret', () => {
    expect(parseWebhookSettings({ WEBHOOK_SECRET: 'x' }, context)).toEqual({
      ok: true,
      settings: {
        port: 8080,
        logLevel: 'info',
        secret: 'x',
        path: '/webhook',
        maxBodyBytes: GITHUB_MAX_PAYLOAD_BYTES,
        shutdownDelayMs: 0,
      },
    });
  });

  it('reads every variable', () => {
    const result = parseWebhookSettings(
      {
        PORT: '9000',
        LISTEN_HOST: '127.0.0.1',
        POD_NAME: 'webhook-7d9f-abcde',
        LOG_LEVEL: 'trace',
        WEBHOOK_SECRET_FILE: '/var/run/secrets/webhook/secret',
        WEBHOOK_PATH: '/github/events',
        WEBHOOK_MAX_BODY_BYTES: '1048576',
        WEBHOOK_SHUTDOWN_DELAY: '5s',
      },
      context,
    );

    expect(result).toEqual({
      ok: true,
      settings: {
        port: 9000,
        listenHost: '127.0.0.1',
        podName: 'webhook-7d9f-abcde',
        logLevel: 'trace',
        // A file's one trailing newline goes; everything else is the secret.
        secret: 's3cr3t with spaces ',
        path: '/github/events',
        maxBodyBytes: 1_048_576,
        shutdownDelayMs: 5_000,
      },
    });
  });

  it.each([
    [{}, 'WEBHOOK_SECRET', /is required/],
    [{ WEBHOOK_SECRET: '  ' }, 'WEBHOOK_SECRET', /is required/],
    [
      { WEBHOOK_SECRET: 'x', WEBHOOK_SECRET_FILE: '/var/run/secrets/webhook/secret' },
      'WEBHOOK_SECRET_FILE',
      /not both/,
    ],
    [{ WEBHOOK_SECRET_FILE: '/nowhere' }, 'WEBHOOK_SECRET_FILE', /cannot read \/nowhere: ENOENT/],
    [{ WEBHOOK_SECRET_FILE: '/var/run/secrets/webhook/empty' }, 'WEBHOOK_SECRET_FILE', /is empty/],
    [{ WEBHOOK_SECRET: 'x', PORT: '0' }, 'PORT', /at least 1/],
    [{ WEBHOOK_SECRET: 'x', PORT: '8080a' }, 'PORT', /whole number/],
    [{ WEBHOOK_SECRET: 'x', LISTEN_HOST: 'every interface' }, 'LISTEN_HOST', /address/],
    [{ WEBHOOK_SECRET: 'x', LOG_LEVEL: 'verbose' }, 'LOG_LEVEL', /one of fatal, error/],
    [{ WEBHOOK_SECRET: 'x', WEBHOOK_PATH: 'webhook' }, 'WEBHOOK_PATH', /URL path/],
    [{ WEBHOOK_SECRET: 'x', WEBHOOK_PATH: '/metrics' }, 'WEBHOOK_PATH', /must not be/],
    [{ WEBHOOK_SECRET: 'x', WEBHOOK_MAX_BODY_BYTES: '25MB' }, 'WEBHOOK_MAX_BODY_BYTES', /whole number/],
    [{ WEBHOOK_SECRET: 'x', WEBHOOK_MAX_BODY_BYTES: '10' }, 'WEBHOOK_MAX_BODY_BYTES', /at least 1024/],
  ])('refuses %j, naming %s', (env, variable, message) => {
    const result = parseWebhookSettings(env, context);

    expect(result.ok).toBe(false);
    if (!result.ok)
      expect(result.problems).toEqual([{ variable, message: expect.stringMatching(message) as string }]);
  });

  it('reports every bad variable in one pass', () => {
    const result = parseWebhookSettings({ PORT: 'x', LOG_LEVEL: 'y', WEBHOOK_PATH: 'z' }, context);

    expect(result.ok ? [] : result.problems.map((p) => p.variable).sort()).toEqual([
      'LOG_LEVEL',
      'PORT',
      'WEBHOOK_PATH',
      'WEBHOOK_SECRET',
    ]);
  });
});

describe('worker settings from the environment', () => {
  it('has a default ledger key and no handler module', () => {
    expect(parseWorkerSettings({}, context)).toEqual({
      ok: true,
      settings: { port: 8080, logLevel: 'info', ledgerKey: 'queueshift:ledger' },
    });
  });

  it('takes a handler module that exists, and a ledger key', () => {
    const result = parseWorkerSettings(
      { HANDLER_MODULE: '/app/handlers.mjs', LEDGER_KEY: 'ci:ledger' },
      context,
    );

    expect(result).toMatchObject({
      ok: true,
      settings: { handlerModule: '/app/handlers.mjs', ledgerKey: 'ci:ledger' },
    });
  });

  it.each([
    [{ HANDLER_MODULE: '/app/missing.mjs' }, 'HANDLER_MODULE', /does not exist/],
    [{ LEDGER_KEY: 'two words' }, 'LEDGER_KEY', /spaces/],
    [{ POD_NAME: 'x'.repeat(201) }, 'POD_NAME', /at most 200/],
  ])('refuses %j, naming %s', (env, variable, message) => {
    const result = parseWorkerSettings(env, context);

    expect(result.ok).toBe(false);
    if (!result.ok)
      expect(result.problems).toEqual([{ variable, message: expect.stringMatching(message) as string }]);
  });
});
