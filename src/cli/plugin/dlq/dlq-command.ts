import type { Logger } from 'pino';
import type { BackendKind } from '../../../adapter/index.ts';
import type { MigrationClient, ObjectRef } from '../migration-client.ts';
import type { PluginCommand } from '../plugin-args.ts';
import { EXIT_FAILED, EXIT_OK, PluginError } from '../plugin-error.ts';
import type { PluginIo } from '../plugin-io.ts';
import type { DeadLetterSource } from './dead-letter.ts';
import { backendOfId, renderDeadLetter, renderDeadLetters, renderRedriven } from './dead-letter-view.ts';
import { migrationSpec, resolveQueueSettings, type QueueSettings } from './queue-settings.ts';
import { RedisDeadLetters } from './redis-dead-letters.ts';
import { SqsDeadLetters } from './sqs-dead-letters.ts';

export type DlqCommand = Extract<PluginCommand, { kind: 'dlq-list' | 'dlq-inspect' | 'dlq-redrive' }>;

export interface DlqContext {
  client: MigrationClient;
  ref: ObjectRef;
  logger: Logger;
  io: PluginIo;
  now: () => number;
}

async function withSource<T>(
  backend: BackendKind,
  settings: QueueSettings,
  logger: Logger,
  use: (source: DeadLetterSource) => Promise<T>,
): Promise<T> {
  const source: DeadLetterSource =
    backend === 'redis'
      ? new RedisDeadLetters(settings.redis, logger)
      : await SqsDeadLetters.open(settings.sqs, logger);
  try {
    return await use(source);
  } finally {
    await source.close();
  }
}

/** Lists each back end's dead letters; one back end failing does not hide the other's. */
async function list(
  command: Extract<DlqCommand, { kind: 'dlq-list' }>,
  settings: QueueSettings,
  context: DlqContext,
): Promise<number> {
  let code = EXIT_OK;
  for (const backend of command.backends) {
    try {
      const text = await withSource(backend, settings, context.logger, async (source) =>
        renderDeadLetters(backend, source.where, await source.list(command.limit), context.now()),
      );
      context.io.out(text);
    } catch (error) {
      context.io.err(`error: ${backend}: ${(error as Error).message}\n`);
      code = EXIT_FAILED;
    }
  }
  return code;
}

/**
 * Moves dead letters back one at a time, printing each as it lands. A delivery that comes back
 * dead during the same run is left for the next one, so a handler that keeps failing cannot keep
 * the redrive going forever.
 */
async function redrive(
  command: Extract<DlqCommand, { kind: 'dlq-redrive' }>,
  settings: QueueSettings,
  context: DlqContext,
): Promise<number> {
  const { id, limit } = command;
  const backends = id === undefined || command.backends.length === 1 ? command.backends : [backendOfId(id)];
  const movedDeliveries = new Set<string>();
  let moved = 0;
  for (const backend of backends) {
    await withSource(backend, settings, context.logger, async (source) => {
      while (limit === undefined || moved < limit) {
        const done = await source.redrive(
          id,
          (letter) => !letter.message.ok || !movedDeliveries.has(letter.message.value.deliveryId),
        );
        if (done === undefined) break;
        if (done.letter.message.ok) movedDeliveries.add(done.letter.message.value.deliveryId);
        moved += 1;
        context.io.out(renderRedriven(done));
        if (id !== undefined) break;
      }
    });
  }
  context.io.out(`redrove ${moved} dead letter${moved === 1 ? '' : 's'}\n`);
  return EXIT_OK;
}

/** `kubectl queueshift dlq …` on the queues a QueueMigration names, with its Secrets resolved. */
export async function runDlq(command: DlqCommand, context: DlqContext): Promise<number> {
  const { client, ref } = context;
  const migration = await client.get(ref);
  const settings = await resolveQueueSettings(migrationSpec(migration.spec, ref), ref.namespace, client);
  try {
    switch (command.kind) {
      case 'dlq-list':
        return await list(command, settings, context);
      case 'dlq-inspect': {
        const backend = command.backend ?? backendOfId(command.id);
        const text = await withSource(backend, settings, context.logger, async (source) => {
          const letter = await source.find(command.id);
          if (letter === undefined) {
            throw new PluginError('PLUGIN_NO_DEAD_LETTER', `no dead letter ${command.id} in ${source.where}`);
          }
          return renderDeadLetter(letter);
        });
        context.io.out(text);
        return EXIT_OK;
      }
      case 'dlq-redrive':
        return await redrive(command, settings, context);
    }
  } finally {
    settings.dispose();
  }
}
