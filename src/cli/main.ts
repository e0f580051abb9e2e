#!/usr/bin/env node
/**
 * `queueshift webhook | worker | operator | plugin`. The only module that reads `process.env`: the
 * environment is parsed and validated here, once, and the services get typed configuration.
 */
import type { Environment, ParseResult } from '../adapter/index.ts';
import fs from 'node:fs';
import os from 'node:os';
import { pino } from 'pino';
import type { EnvContext } from './configuration.ts';
import type { Prepared } from './prepared.ts';
import { EXIT_FAILED, runService } from './run-service.ts';

const EXIT_INVALID_CONFIGURATION = 2;

// Each command loads only its own modules: the plugin runs once per kubectl call, and a service
// need not load the operator's Kubernetes client.
const COMMANDS: Record<string, (env: Environment, context: EnvContext) => Promise<ParseResult<Prepared>>> = {
  webhook: async (env, context) => (await import('./webhook-command.ts')).prepareWebhook(env, context),
  worker: async (env, context) => (await import('./worker-command.ts')).prepareWorker(env, context),
  operator: async (env, context) => (await import('./operator-command.ts')).prepareOperator(env, context),
};

const USAGE = `usage: queueshift <${Object.keys(COMMANDS).join('|')}>
       queueshift plugin <command> [flags]
  webhook  receive GitHub deliveries and publish them to the queue (QUEUE_TYPE sqs | redis)
  worker   consume the queue and run the handlers (QUEUE_TYPE sqs | redis | dual)
  operator run the QueueMigration controller
  plugin   the kubectl plugin (\`kubectl queueshift\`): status, controls, dead letters; \`plugin help\`
Configuration comes from the environment; see the README.
`;

const machine: EnvContext = {
  fileExists: (path) => {
    try {
      fs.accessSync(path, fs.constants.R_OK);
      return true;
    } catch {
      return false;
    }
  },
  hostname: () => os.hostname(),
  readFile: (path) => fs.readFileSync(path, 'utf8'),
};

async function main(args: readonly string[], env: Environment): Promise<number> {
  if (args[0] === 'plugin') {
    const { runPlugin } = await import('./plugin/plugin-command.ts');
    return runPlugin(args.slice(1), env, {
      io: {
        out: (text) => {
          process.stdout.write(text);
        },
        err: (text) => {
          process.stderr.write(text);
        },
      },
      now: Date.now,
      logger: pino({ name: 'kubectl-queueshift', level: 'error' }, pino.destination(2)),
    });
  }
  const prepare = args[0] === undefined ? undefined : COMMANDS[args[0]];
  if (prepare === undefined || args.length > 1) {
    process.stderr.write(USAGE);
    return EXIT_INVALID_CONFIGURATION;
  }
  const prepared = await prepare(env, machine);
  if (!prepared.ok) {
    for (const { variable, message } of prepared.problems) {
      process.stderr.write(`invalid configuration: ${variable}: ${message}\n`);
    }
    return EXIT_INVALID_CONFIGURATION;
  }
  const { service, logger, stopBudgetMs } = prepared.config;
  for (const warning of prepared.warnings) logger.warn(warning);
  return runService(service, logger, stopBudgetMs);
}

main(process.argv.slice(2), process.env).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(
      `queueshift: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(EXIT_FAILED);
  },
);
