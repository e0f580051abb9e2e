import type { CommandSender } from '../redis/turn-pipeline.ts';
import { commandError, type RedisStreamsErrorContext } from './errors.ts';

/** Runs one command; a failure comes back as a coded error that names the command and where it ran. */
export async function sendCommand(
  client: CommandSender,
  context: RedisStreamsErrorContext,
  command: string,
  args: readonly (string | number)[],
): Promise<unknown> {
  try {
    return await client.call(command, ...args);
  } catch (error) {
    throw commandError(command, context, error);
  }
}
