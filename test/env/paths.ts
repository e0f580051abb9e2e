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

export function envPaths(repoRoot = defaultRepoRoot()): EnvPaths {
  const stateDir = path.join(repoRoot, '.queueshift');
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
