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
  await up(paths, log);
  return () => down(paths, log);
}
