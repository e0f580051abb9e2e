import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { down, up } from '../env/environment.ts';
import { envPaths } from '../env/paths.ts';
import { isRunning, markedProcesses } from '../env/processes.ts';
import { listeningSockets, socketsHeldBy } from '../env/sockets.ts';

// A second, private environment: the shared one stays up for the other e2e files.
describe('env:up then env:down', () => {
  it('serves on loopback only, and leaves no listening port and no process behind', async () => {
    const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'qs-lifecycle-'));
    const paths = envPaths(undefined, stateDir);
    const log = (): void => undefined;
    const state = await up(paths, log);
    try {
      const daemonPids = state.daemons.map((d) => d.pid);
      expect(daemonPids.filter((pid) => !isRunning(pid))).toEqual([]);
      const pids = [...new Set([...daemonPids, ...markedProcesses(state.marker)])];
      const sockets = socketsHeldBy(pids);
      expect(sockets.length).toBeGreaterThanOrEqual(state.daemons.length - 1);
      expect(sockets.filter((s) => s.address !== '127.0.0.1')).toEqual([]);
      const envFile = fs.readFileSync(paths.envFile, 'utf8');
      expect(envFile).toMatch(/^export KUBECONFIG='.+'$/m);
      expect(envFile).toMatch(/^export PROMETHEUS_URL='http:\/\/127\.0\.0\.1:\d+'$/m);

      await down(paths, log);

      expect(daemonPids.filter(isRunning)).toEqual([]);
      expect(markedProcesses(state.marker)).toEqual([]);
      const ports = new Set(sockets.map((s) => s.port));
      expect(listeningSockets().filter((s) => ports.has(s.port))).toEqual([]);
      expect(fs.existsSync(paths.stateFile)).toBe(false);
    } finally {
      await down(paths, log);
      fs.rmSync(stateDir, { recursive: true, force: true });
    }
  }, 300_000);
});
