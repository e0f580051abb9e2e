import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import { signalGroup } from '../processes.ts';

/** Everything needed to start one container's process. */
export interface LaunchSpec {
  command: string;
  args: readonly string[];
  env: Readonly<Record<string, string>>;
  cwd: string;
  /** stdout and stderr are appended here. */
  logFile: string;
}

export interface ExitInfo {
  /** The exit code, or 128 + signal number for a process killed by a signal (as runtimes report). */
  exitCode: number;
  signal?: number;
  /** Set when the process could not be started at all. */
  startError?: string;
  finishedAt: number;
}

function signalNumber(name: NodeJS.Signals | null): number | undefined {
  return name === null ? undefined : os.constants.signals[name];
}

/**
 * One container's process, leader of its own process group (so that it and everything it starts
 * are signalled together, and the local node's own group signals never reach it). When the leader
 * exits, whatever it left behind in its group is killed, as a container runtime tears down a
 * container's processes with it.
 */
export class ContainerProcess {
  readonly pid: number;
  readonly startedAt: number;
  readonly exited: Promise<ExitInfo>;
  private done = false;

  private constructor(child: ChildProcess, startedAt: number) {
    this.pid = child.pid ?? -1;
    this.startedAt = startedAt;
    this.exited = new Promise<ExitInfo>((resolve) => {
      child.once('error', (error) => {
        if (child.pid !== undefined) return; // errors after a successful spawn end in 'exit' too
        this.done = true;
        resolve({ exitCode: 128, startError: error.message, finishedAt: Date.now() });
      });
      child.once('exit', (code, signal) => {
        this.done = true;
        if (this.pid > 0) signalGroup(this.pid, 'SIGKILL');
        const number = signalNumber(signal);
        resolve({
          exitCode: code ?? 128 + (number ?? 0),
          ...(number !== undefined && { signal: number }),
          finishedAt: Date.now(),
        });
      });
    });
  }

  static start(spec: LaunchSpec): ContainerProcess {
    const log = fs.openSync(spec.logFile, 'a');
    try {
      const child = spawn(spec.command, spec.args, {
        cwd: spec.cwd,
        env: spec.env,
        detached: true,
        stdio: ['ignore', log, log],
      });
      child.unref();
      return new ContainerProcess(child, Date.now());
    } finally {
      fs.closeSync(log);
    }
  }

  get running(): boolean {
    return !this.done && this.pid > 0;
  }

  get containerId(): string {
    return `local://${this.pid}`;
  }

  /** SIGTERM to the group, SIGKILL once `graceMs` passed; resolves when the leader has exited. */
  async stop(graceMs: number): Promise<ExitInfo> {
    if (!this.running) return this.exited;
    signalGroup(this.pid, 'SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const killed = new Promise<void>((resolve) => {
      timer = setTimeout(
        () => {
          signalGroup(this.pid, 'SIGKILL');
          resolve();
        },
        Math.max(0, graceMs),
      );
    });
    await Promise.race([this.exited, killed]);
    clearTimeout(timer);
    return this.exited;
  }

  /** SIGKILL to the group at once. */
  kill(): Promise<ExitInfo> {
    if (this.running) signalGroup(this.pid, 'SIGKILL');
    return this.exited;
  }
}
