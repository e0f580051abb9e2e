import { spawn } from 'node:child_process';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type {
  V1ExecAction,
  V1HTTPGetAction,
  V1Probe,
  V1SleepAction,
  V1TCPSocketAction,
} from '@kubernetes/client-node';
import { LOOPBACK } from '../ports.ts';
import {
  initialProbeState,
  probeSettings,
  recordProbe,
  type ProbeKind,
  type ProbeSettings,
  type ProbeState,
} from './probe-tracker.ts';

/** A probe or lifecycle hook action (the shape V1Probe and V1LifecycleHandler share). */
export interface Action {
  exec?: V1ExecAction;
  httpGet?: V1HTTPGetAction;
  tcpSocket?: V1TCPSocketAction;
  sleep?: V1SleepAction;
  grpc?: unknown;
}

/** Where an action runs: always 127.0.0.1 and the container's port, whatever the spec says. */
export interface ActionTarget {
  port: number;
  env: Readonly<Record<string, string>>;
  cwd: string;
  /** The Node binary that a command `node` means. */
  nodePath: string;
  /** When set, exec actions run inside this process's mount namespace (the container's volumes). */
  mountNamespacePid?: number;
}

export interface ActionOutcome {
  success: boolean;
  message: string;
}

function httpAction(
  action: V1HTTPGetAction,
  target: ActionTarget,
  timeoutMs: number,
): Promise<ActionOutcome> {
  const secure = action.scheme?.toUpperCase() === 'HTTPS';
  const headers: Record<string, string> = { 'User-Agent': 'kube-probe/local-node', Accept: '*/*' };
  for (const header of action.httpHeaders ?? []) headers[header.name] = header.value;
  const path = action.path === undefined || action.path === '' ? '/' : action.path;
  return new Promise((resolve) => {
    const options = { host: LOOPBACK, port: target.port, path, headers, timeout: timeoutMs };
    const onResponse = (response: http.IncomingMessage): void => {
      const status = response.statusCode ?? 0;
      response.resume();
      resolve(
        status >= 200 && status < 400
          ? { success: true, message: `HTTP ${status}` }
          : { success: false, message: `HTTP probe failed with statuscode: ${status}` },
      );
    };
    const request = secure
      ? https.get({ ...options, rejectUnauthorized: false }, onResponse)
      : http.get(options, onResponse);
    request.on('timeout', () => request.destroy(new Error(`timeout after ${timeoutMs} ms`)));
    request.on('error', (error) => {
      resolve({
        success: false,
        message: `Get "http://${LOOPBACK}:${target.port}${path}": ${error.message}`,
      });
    });
  });
}

function tcpAction(target: ActionTarget, timeoutMs: number): Promise<ActionOutcome> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: LOOPBACK, port: target.port });
    socket.setTimeout(timeoutMs);
    socket.once('connect', () => {
      socket.destroy();
      resolve({ success: true, message: 'connected' });
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve({ success: false, message: `dial tcp ${LOOPBACK}:${target.port}: i/o timeout` });
    });
    socket.once('error', (error) => {
      resolve({ success: false, message: `dial tcp ${LOOPBACK}:${target.port}: ${error.message}` });
    });
  });
}

function execAction(action: V1ExecAction, target: ActionTarget, timeoutMs: number): Promise<ActionOutcome> {
  const [program, ...args] = action.command ?? [];
  if (program === undefined)
    return Promise.resolve({ success: false, message: 'exec action has no command' });
  const resolved = program === 'node' ? target.nodePath : program;
  const [command, argv] =
    target.mountNamespacePid === undefined
      ? [resolved, args]
      : ['nsenter', ['-t', String(target.mountNamespacePid), '-m', '--', resolved, ...args]];
  return new Promise((resolve) => {
    let output = '';
    const child = spawn(command, argv, {
      env: target.env,
      cwd: target.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const collect = (chunk: Buffer): void => {
      if (output.length < 1024) output += chunk.toString('utf8');
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      resolve({ success: false, message: error.message });
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      const text = output.trim();
      if (code === 0) resolve({ success: true, message: text });
      else if (signal === 'SIGKILL')
        resolve({ success: false, message: `command timed out after ${timeoutMs} ms` });
      else
        resolve({
          success: false,
          message: `command exited with ${code ?? signal ?? '?'}${text ? `: ${text}` : ''}`,
        });
    });
  });
}

/** Runs a probe or hook action once, within `timeoutMs`. Never throws. */
export async function runAction(
  action: Action,
  target: ActionTarget,
  timeoutMs: number,
): Promise<ActionOutcome> {
  if (action.httpGet) return httpAction(action.httpGet, target, timeoutMs);
  if (action.tcpSocket) return tcpAction(target, timeoutMs);
  if (action.exec) return execAction(action.exec, target, timeoutMs);
  if (action.sleep) {
    await sleep(Math.min(action.sleep.seconds * 1000, timeoutMs));
    return { success: true, message: 'slept' };
  }
  return {
    success: false,
    message: 'unsupported probe or hook type (the local node runs httpGet, tcpSocket, exec, sleep)',
  };
}

const PROBE_NAMES: Record<ProbeKind, string> = {
  startup: 'Startup',
  readiness: 'Readiness',
  liveness: 'Liveness',
};

/**
 * One probe of one running container: waits the initial delay, then probes every period and keeps
 * the threshold bookkeeping. A startup probe stops once it has succeeded.
 */
export class ProbeLoop {
  readonly kind: ProbeKind;
  readonly settings: ProbeSettings;
  private state: ProbeState;
  private readonly probe: V1Probe;
  private readonly target: ActionTarget;
  private readonly onUpdate: (state: ProbeState, outcome: ActionOutcome, before: ProbeState) => void;
  private readonly abort = new AbortController();

  constructor(
    kind: ProbeKind,
    probe: V1Probe,
    target: ActionTarget,
    onUpdate: (state: ProbeState, outcome: ActionOutcome, before: ProbeState) => void,
  ) {
    this.kind = kind;
    this.probe = probe;
    this.settings = probeSettings(probe, kind);
    this.state = initialProbeState(kind);
    this.target = target;
    this.onUpdate = onUpdate;
  }

  get result(): boolean {
    return this.state.result;
  }

  get name(): string {
    return PROBE_NAMES[this.kind];
  }

  /** Starts probing; the initial delay counts from `since` (the container's start). */
  start(since: number): void {
    void this.loop(since).catch(() => undefined);
  }

  stop(): void {
    this.abort.abort();
  }

  private stopped(): boolean {
    return this.abort.signal.aborted;
  }

  private async loop(since: number): Promise<void> {
    const signal = this.abort.signal;
    await sleep(Math.max(0, since + this.settings.initialDelayMs - Date.now()), undefined, { signal });
    while (!signal.aborted) {
      const outcome = await runAction(this.probe, this.target, this.settings.timeoutMs);
      if (this.stopped()) return;
      const before = this.state;
      this.state = recordProbe(this.state, outcome.success, this.settings);
      this.onUpdate(this.state, outcome, before);
      if (this.kind === 'startup' && this.state.result) return;
      await sleep(this.settings.periodMs, undefined, { signal });
    }
  }
}
