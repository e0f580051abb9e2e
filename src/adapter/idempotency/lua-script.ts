import { createHash } from 'node:crypto';
import type { CommandSender } from '../redis/turn-pipeline.ts';

/**
 * A Lua script sent by its SHA1 and loaded on the first NOSCRIPT: a restarted or failed-over server
 * has an empty script cache, and sending the full source on every call wastes bandwidth.
 */
export class LuaScript {
  /** Names the script in errors. */
  readonly name: string;
  readonly source: string;
  readonly sha: string;

  constructor(name: string, source: string) {
    this.name = name;
    this.source = source;
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  async run(
    sender: CommandSender,
    keys: readonly string[],
    args: readonly (string | number)[],
  ): Promise<unknown> {
    try {
      return await sender.call('EVALSHA', this.sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return sender.call('EVAL', this.source, keys.length, ...keys, ...args);
    }
  }
}
