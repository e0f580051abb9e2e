import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { controlDone, controlPatch, controlToken } from './control-patch.ts';
import { runDlq } from './dlq/dlq-command.ts';
import { openKubeSession, type KubeEnvironment } from './kube-session.ts';
import { MigrationClient } from './migration-client.ts';
import { parsePluginArgs, PLUGIN_USAGE, type Invocation } from './plugin-args.ts';
import { EXIT_OK, PluginError } from './plugin-error.ts';
import type { PluginIo } from './plugin-io.ts';
import { readMigration } from './status-fields.ts';
import { renderList, renderStatus } from './status-view.ts';

export interface PluginDependencies {
  io: PluginIo;
  now: () => number;
  /** Warnings of the adapter's back ends; errors reach the user as the command's own message. */
  logger: Logger;
}

async function run(invocation: Invocation, env: KubeEnvironment, deps: PluginDependencies): Promise<number> {
  const { command, connection } = invocation;
  if (command.kind === 'help') {
    deps.io.out(PLUGIN_USAGE);
    return EXIT_OK;
  }
  const session = openKubeSession(connection, env);
  const client = new MigrationClient(session.api);
  switch (command.kind) {
    case 'list': {
      const namespace = command.allNamespaces ? undefined : session.namespace;
      const views = (await client.list(namespace)).map(readMigration);
      deps.io.out(renderList(views, command.allNamespaces, deps.now()));
      return EXIT_OK;
    }
    case 'status': {
      const migration = await client.get({ namespace: session.namespace, name: command.name });
      deps.io.out(renderStatus(readMigration(migration), deps.now()));
      return EXIT_OK;
    }
    case 'control': {
      const token = controlToken(deps.now(), randomUUID().slice(0, 8));
      const ref = { namespace: session.namespace, name: command.name };
      await client.mergePatch(ref, controlPatch(command.action, token));
      deps.io.out(controlDone(command.action, command.name, token));
      return EXIT_OK;
    }
    default:
      return runDlq(command, {
        client,
        ref: { namespace: session.namespace, name: command.name },
        logger: deps.logger,
        io: deps.io,
        now: deps.now,
      });
  }
}

/**
 * `queueshift plugin …`, which kubectl runs as `kubectl queueshift …`. Exit status: 0 done,
 * 1 failed (the message names the object and the cause), 2 usage.
 */
export async function runPlugin(
  args: readonly string[],
  env: KubeEnvironment,
  deps: PluginDependencies,
): Promise<number> {
  try {
    return await run(parsePluginArgs(args), env, deps);
  } catch (error) {
    if (!(error instanceof PluginError)) throw error;
    deps.io.err(`error: ${error.message}\n`);
    if (error.code === 'PLUGIN_USAGE') deps.io.err(PLUGIN_USAGE);
    return error.exitCode;
  }
}
