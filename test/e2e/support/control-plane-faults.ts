import { execFile } from 'node:child_process';
import fs from 'node:fs';
import { promisify } from 'node:util';
import type { EnvPaths } from '../../env/paths.ts';
import { MARKER_VARIABLE, startDaemon, stopProcessGroup, type DaemonRecord } from '../../env/processes.ts';
import { readState, writeState, type KubeEndpoint } from '../../env/state.ts';
import { waitUntil } from '../../env/wait.ts';

const run = promisify(execFile);

interface LaunchOf {
  command: string;
  args: string[];
  env: Record<string, string>;
  cwd: string;
}

/** How a running process was started, read back from /proc: the launch a restart repeats. */
function launchOf(pid: number): LaunchOf {
  const fields = (file: string): string[] =>
    fs
      .readFileSync(`/proc/${String(pid)}/${file}`, 'utf8')
      .split('\0')
      .filter(Boolean);
  const [command, ...args] = fields('cmdline');
  if (command === undefined) throw new Error(`process ${String(pid)} has no command line to restart with`);
  const env: Record<string, string> = {};
  for (const entry of fields('environ')) {
    const at = entry.indexOf('=');
    if (at > 0 && entry.slice(0, at) !== MARKER_VARIABLE) env[entry.slice(0, at)] = entry.slice(at + 1);
  }
  return { command, args, env, cwd: fs.readlinkSync(`/proc/${String(pid)}/cwd`) };
}

/**
 * Restarts a daemon of the environment as an operator restarts a server: SIGTERM (then SIGKILL
 * after the grace), and the same command line, environment and working directory again, so it
 * listens where it did. The state file is re-read just before the new pid goes in, since other
 * test files may have updated it meanwhile.
 */
export async function restartDaemon(paths: EnvPaths, name: string): Promise<DaemonRecord> {
  const before = readState(paths.stateFile);
  const old = before?.daemons.find((d) => d.name === name);
  if (before === undefined || old === undefined)
    throw new Error(`cannot restart ${name}: ${paths.stateFile} has no such daemon`);
  const launch = launchOf(old.pid);
  await stopProcessGroup(old.pid);
  const record = startDaemon({ name, ...launch }, paths.logsDir, before.marker);
  const state = readState(paths.stateFile) ?? before;
  state.daemons = state.daemons.map((d) => (d.name === name ? record : d));
  writeState(paths.stateFile, state);
  return record;
}

/**
 * Restarts kube-apiserver and resolves once it is ready again, with the time it was away. etcd
 * keeps every object; clients see refused connections, then watches that ended and must resume.
 */
export async function restartApiServer(paths: EnvPaths, kube: KubeEndpoint): Promise<number> {
  const stoppedAt = Date.now();
  await restartDaemon(paths, 'kube-apiserver');
  await waitUntil(
    async () => {
      const { stdout } = await run(kube.kubectl, ['get', '--raw', '/readyz'], {
        env: { ...process.env, KUBECONFIG: kube.kubeconfig },
      });
      return stdout.trim() === 'ok';
    },
    {
      what: `kube-apiserver to be ready again (log: ${paths.logsDir}/kube-apiserver.log)`,
      timeoutMs: 120_000,
      intervalMs: 250,
    },
  );
  return Date.now() - stoppedAt;
}
