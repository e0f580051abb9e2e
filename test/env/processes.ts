import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Every process the environment starts carries this variable, set to the environment's state
 * folder, so that `env:down` can find and stop anything left behind by a crashed parent.
 */
export const MARKER_VARIABLE = 'QUEUESHIFT_ENV_MARKER';

export interface DaemonSpec {
  /** Unique within the environment; names the log file. */
  name: string;
  command: string;
  args: readonly string[];
  env?: Readonly<Record<string, string>>;
  cwd?: string;
}

export interface DaemonRecord {
  name: string;
  pid: number;
  logFile: string;
}

/**
 * Starts a long-lived server in its own process group, detached from the caller so that it
 * outlives `npm run env:up`. Output is appended to `<logsDir>/<name>.log`.
 */
export function startDaemon(spec: DaemonSpec, logsDir: string, marker: string): DaemonRecord {
  fs.mkdirSync(logsDir, { recursive: true });
  const logFile = path.join(logsDir, `${spec.name}.log`);
  const log = fs.openSync(logFile, 'a');
  try {
    const child = spawn(spec.command, spec.args, {
      cwd: spec.cwd,
      env: { ...process.env, ...spec.env, [MARKER_VARIABLE]: marker },
      detached: true,
      stdio: ['ignore', log, log],
    });
    if (child.pid === undefined) throw new Error(`could not start ${spec.name} (${spec.command})`);
    child.unref();
    return { name: spec.name, pid: child.pid, logFile };
  } finally {
    fs.closeSync(log);
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Whether a process runs. Zombies answer kill(0) but are gone for every purpose that matters
 * here (an orphan waits for this machine's init to reap it, which can take a second or two).
 */
export function isRunning(pid: number): boolean {
  if (!isAlive(pid)) return false;
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z';
  } catch {
    return false;
  }
}

/** Signals a process group, or the process alone when it leads no group. */
export function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

/** SIGTERM to the process group, SIGKILL after `graceMs`; resolves once the leader is gone. */
export async function stopProcessGroup(pid: number, graceMs = 10_000): Promise<void> {
  if (!isRunning(pid)) return;
  signalGroup(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (isRunning(pid) && Date.now() < deadline) await sleep(50);
  if (isRunning(pid)) {
    signalGroup(pid, 'SIGKILL');
    const killDeadline = Date.now() + 5_000;
    while (isRunning(pid) && Date.now() < killDeadline) await sleep(20);
  }
}

/**
 * Pids of every live process whose environment carries `MARKER_VARIABLE=marker`. Programs that
 * reuse their environment's memory for their process title (redis-server, redis-sentinel) are
 * not found this way; daemons are stopped by their recorded pid, this catches the rest.
 */
export function markedProcesses(marker: string): number[] {
  const needle = `${MARKER_VARIABLE}=${marker}`;
  const pids: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid) continue;
    try {
      const environ = fs.readFileSync(`/proc/${entry}/environ`, 'utf8');
      if (environ.split('\0').includes(needle) && isRunning(pid)) pids.push(pid);
    } catch {
      // exited meanwhile, or not ours to read
    }
  }
  return pids;
}

/** Kills whatever `markedProcesses` finds, including processes whose parent already died. */
export async function killMarkedProcesses(marker: string): Promise<number[]> {
  const pids = markedProcesses(marker);
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  const deadline = Date.now() + 5_000;
  while (pids.some(isRunning) && Date.now() < deadline) await sleep(20);
  return pids;
}
