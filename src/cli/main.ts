#!/usr/bin/env node
/**
 * `queueshift webhook | worker`. The only module that reads `process.env`: the environment is
 * parsed and validated here, once, and the services get typed configuration.
 */
import type { Environment, ParseResult } from '../adapter/index.ts';
import fs from 'node:fs';
import os from 'node:os';
import type { EnvContext } from './configuration.ts';
import type { Prepared } from './prepared.ts';
import { prepareOperator } from './operator-command.ts';
import { EXIT_FAILED, runService } from './run-service.ts';
import { prepareWebhook } from './webhook-command.ts';
import { prepareWorker } from './worker-command.ts';

const EXIT_INVALID_CONFIGURATION = 2;

const COMMANDS: Record<string, (env: Environment, context: EnvContext) => Promise<ParseResult<Prepared>>> = {
  webhook: (env, context) => Promise.resolve(prepareWebhook(env, context)),
  worker: prepareWorker,
  operator: prepareOperator,
};

const USAGE = `usage: queueshift <${Object.keys(COMMANDS).join('|')}>
  webhook  receive GitHub deliveries and publish them to the queue (QUEUE_TYPE sqs | redis)
  worker   consume the queue and run the handlers (QUEUE_TYPE sqs | redis | dual)
  operator run the QueueMigration controller
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
