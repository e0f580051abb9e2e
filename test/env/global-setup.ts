import { down, up } from './environment.ts';
import { envPaths } from './paths.ts';
import { readState } from './state.ts';
import { isAlive } from './processes.ts';

/**
 * vitest global setup for the integration and e2e tiers. Reuses an environment that
 * `npm run env:up` (or scripts/test.sh) started; otherwise starts one and stops it afterwards.
 */
export default async function setup(): Promise<() => Promise<void>> {
  const paths = envPaths();
  const log = (line: string): void => {
    process.stderr.write(`[env] ${line}\n`);
  };
  const running = readState(paths.stateFile);
  if (running?.daemons.every((d) => isAlive(d.pid)) && running.localNode) {
    return async () => {
      // Started by someone else, who stops it.
    };
  }
  const stopped = running?.daemons.filter((d) => !isAlive(d.pid)).map((d) => d.name) ?? [];
  if (running !== undefined && stopped.length < running.daemons.length) {
    // Someone else's environment, partly down (a fault test may be restarting a server right now):
    // replacing it would pull the servers from under every other run that uses it.
    throw new Error(
      `the environment in ${paths.stateDir} is partly down (${stopped.join(', ') || 'no local node'} not running); ` +
        'wait for a fault test to restore it, or restart it with `npm run env:down && npm run env:up`',
    );
  }
  await up(paths, log);
  return () => down(paths, log);
}
