import { envPaths } from './paths.ts';
import { readState, type EnvironmentState } from './state.ts';

/**
 * The running environment, for tests. global-setup.ts has started it (or found it running)
 * before any test file loads, so a missing state file is a setup bug, reported as such.
 */
export function environment(): EnvironmentState {
  const paths = envPaths();
  const state = readState(paths.stateFile);
  if (!state) {
    throw new Error(
      `no test environment at ${paths.stateFile}: run \`npm run env:up\` or the vitest global setup`,
    );
  }
  return state;
}

/** A section of the environment that a test needs, with a clear error when it is missing. */
export function required<K extends keyof EnvironmentState>(key: K): NonNullable<EnvironmentState[K]> {
  const value = environment()[key];
  if (value === undefined) throw new Error(`the test environment has no ${key}`);
  return value;
}
