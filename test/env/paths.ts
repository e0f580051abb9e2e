import path from 'node:path';
import os from 'node:os';
import { fileURLToPath } from 'node:url';

/** Where the environment keeps its files. Everything under stateDir is disposable. */
export interface EnvPaths {
  repoRoot: string;
  /** `.queueshift/` in the checkout: state, logs, generated certificates and configs. */
  stateDir: string;
  logsDir: string;
  stateFile: string;
  /** Shell-sourceable exports for people and scripts (`. .queueshift/env`). */
  envFile: string;
  /** Expensive builds shared by every checkout on the machine (Kubernetes binaries, Node). */
  cacheDir: string;
}

/**
 * `QUEUESHIFT_STATE_DIR` (or the argument) moves the state folder, so that a second environment
 * can run beside the default one (the env lifecycle test does that).
 */
export function envPaths(repoRoot = defaultRepoRoot(), stateDir?: string): EnvPaths {
  stateDir ??= process.env['QUEUESHIFT_STATE_DIR'] ?? path.join(repoRoot, '.queueshift');
  return {
    repoRoot,
    stateDir,
    logsDir: path.join(stateDir, 'logs'),
    stateFile: path.join(stateDir, 'state.json'),
    envFile: path.join(stateDir, 'env'),
    cacheDir: process.env['QUEUESHIFT_CACHE'] ?? path.join(os.homedir(), '.cache', 'queueshift'),
  };
}

function defaultRepoRoot(): string {
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
}
