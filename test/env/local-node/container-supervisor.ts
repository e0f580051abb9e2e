import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { restartDelay, shouldRestart, type BackoffPolicy, type BackoffState } from './backoff.ts';
import { ContainerProcess, type ExitInfo, type LaunchSpec } from './container-process.ts';
import type { EventSink } from './events.ts';
import { rfc3339, type ContainerSnapshot, type ContainerState, type TerminatedState } from './pod-status.ts';
import { ProbeLoop, runAction, type ActionTarget } from './probes.ts';
import type { ProbeKind, ProbeState } from './probe-tracker.ts';

/** A container ready to start, or the reason it cannot start yet. */
export type Prepared =
  | {
      ok: true;
      launch: LaunchSpec;
      /** Where probes and hooks run (the container's port and environment). */
      target: ActionTarget;
      /** The process runs in its own mount namespace; exec probes must enter it. */
      mountNamespace: boolean;
    }
  | { ok: false; reason: string; message: string; retryMs: number };

export interface SupervisorDeps {
  container: V1Container;
  /** An init container: runs to completion, is retried on failure (unless the pod says Never). */
  init?: boolean;
  /** The pod as last seen (its spec drives restart policy and grace periods). */
  pod: () => V1Pod;
  prepare: () => Promise<Prepared>;
  backoff: BackoffPolicy;
  /** Called whenever the snapshot changed. */
  changed: () => void;
  events: EventSink;
  log: Logger;
}

function formatDuration(ms: number): string {
  const seconds = Math.round(ms / 1000);
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  return seconds % 60 === 0 ? `${minutes}m0s` : `${minutes}m${seconds % 60}s`;
}

function podRef(pod: V1Pod): string {
  return `${pod.metadata?.name ?? ''}_${pod.metadata?.namespace ?? ''}(${pod.metadata?.uid ?? ''})`;
}

export function terminationGraceMs(pod: V1Pod): number {
  const seconds = pod.metadata?.deletionGracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? 30;
  return Math.max(0, seconds) * 1000;
}

/**
 * Runs one container for as long as its pod lives: prepares it (env, volumes), starts its
 * process, runs its probes, and restarts it by the pod's restart policy with the kubelet's
 * back-off. Its snapshot is what the pod status reports.
 */
export class ContainerSupervisor {
  readonly name: string;
  private readonly deps: SupervisorDeps;
  private state: ContainerState = { waiting: { reason: 'ContainerCreating' } };
  private lastTerminated: TerminatedState | undefined;
  private restartCount = 0;
  private everStarted = false;
  private started = false;
  private process: ContainerProcess | undefined;
  private probes = new Map<ProbeKind, ProbeLoop>();
  private stopping = false;
  /** Read through a call: the flag changes while `run` awaits, which narrowing does not see. */
  private isStopping(): boolean {
    return this.stopping;
  }
  private readonly wake = new AbortController();
  private finished: Promise<void> | undefined;

  constructor(deps: SupervisorDeps) {
    this.deps = deps;
    this.name = deps.container.name;
  }

  get pid(): number | undefined {
    return this.process?.running ? this.process.pid : undefined;
  }

  snapshot(): ContainerSnapshot {
    const readiness = this.probes.get('readiness');
    const running = this.process?.running === true;
    const snapshot: ContainerSnapshot = {
      name: this.name,
      image: this.deps.container.image ?? '',
      state: this.state,
      restartCount: this.restartCount,
      started: running && this.started,
      // A container being stopped is no longer ready, so that clients (and the scrape targets) that
      // pick pods by their Ready condition stop using it at once, as a Service would.
      ready: this.deps.init
        ? this.succeeded()
        : running && this.started && !this.stopping && (readiness === undefined || readiness.result),
    };
    if (this.lastTerminated) snapshot.lastTerminated = this.lastTerminated;
    if (running && this.process) snapshot.containerID = this.process.containerId;
    return snapshot;
  }

  /** Whether the container has ended for good having exited 0 (how an init container completes). */
  succeeded(): boolean {
    return 'terminated' in this.state && this.state.terminated.exitCode === 0;
  }

  /** Resolves when the supervisor has given up on the container: it completed, failed for good, or was stopped. */
  async done(): Promise<void> {
    await this.finished;
  }

  start(): void {
    this.finished ??= this.run().catch((error: unknown) => {
      this.deps.log.error({ err: error, container: this.name }, 'container supervisor crashed');
    });
  }

  /**
   * Stops for good: the preStop hook, then SIGTERM to the process group, SIGKILL after the
   * grace period. Resolves once the process is gone.
   */
  async stop(graceMs: number): Promise<void> {
    this.stopping = true;
    this.wake.abort();
    this.deps.changed();
    const process = this.process;
    if (process?.running) {
      const pod = this.deps.pod();
      this.deps.events.record(pod, this.name, 'Normal', 'Killing', `Stopping container ${this.name}`);
      const deadline = Date.now() + graceMs;
      const preStop = this.deps.container.lifecycle?.preStop;
      const target = this.target;
      if (preStop && target && graceMs > 0) {
        const outcome = await runAction(preStop, target, graceMs);
        if (!outcome.success) {
          this.deps.events.record(
            pod,
            this.name,
            'Warning',
            'FailedPreStopHook',
            `PreStopHook failed: ${outcome.message}`,
          );
        }
      }
      // As the kubelet does, a preStop hook that used up the grace period still leaves 2 s for SIGTERM.
      await process.stop(Math.max(deadline - Date.now(), graceMs > 0 ? 2_000 : 0));
    }
    await this.finished;
  }

  private target: ActionTarget | undefined;

  private setState(state: ContainerState): void {
    this.state = state;
    this.deps.changed();
  }

  private async pause(ms: number): Promise<void> {
    try {
      await sleep(ms, undefined, { signal: this.wake.signal });
    } catch {
      // woken by stop()
    }
  }

  private async run(): Promise<void> {
    let backoff: BackoffState | undefined;
    while (!this.stopping) {
      const prepared = await this.deps.prepare();
      if (this.isStopping()) break;
      if (!prepared.ok) {
        const waiting = this.state;
        if (
          !('waiting' in waiting) ||
          waiting.waiting.reason !== prepared.reason ||
          waiting.waiting.message !== prepared.message
        ) {
          this.deps.log.warn(
            { container: this.name, reason: prepared.reason, message: prepared.message },
            'container cannot start',
          );
        }
        this.deps.events.record(
          this.deps.pod(),
          this.name,
          'Warning',
          'Failed',
          `Error: ${prepared.message}`,
        );
        this.setState({ waiting: { reason: prepared.reason, message: prepared.message } });
        await this.pause(prepared.retryMs);
        continue;
      }
      if (this.everStarted) this.restartCount++;
      this.everStarted = true;
      const process = ContainerProcess.start(prepared.launch);
      this.process = process;
      this.target = prepared.mountNamespace
        ? { ...prepared.target, mountNamespacePid: process.pid }
        : prepared.target;
      this.started = this.deps.container.startupProbe === undefined;
      this.deps.log.info(
        { container: this.name, pid: process.pid, command: prepared.launch.command },
        'container started',
      );
      this.deps.events.record(
        this.deps.pod(),
        this.name,
        'Normal',
        'Started',
        `Started container ${this.name}`,
      );
      this.setState({ running: { startedAt: rfc3339(process.startedAt) } });
      this.startProbes(process);

      const exit = await process.exited;
      this.stopProbes();
      this.started = false;
      this.process = undefined;
      const terminated = this.terminatedState(process, exit);
      this.deps.log.info(
        { container: this.name, pid: process.pid, exitCode: exit.exitCode, signal: exit.signal },
        'container exited',
      );
      const podPolicy = this.deps.pod().spec?.restartPolicy ?? 'Always';
      const policy = this.deps.init ? (podPolicy === 'Never' ? 'Never' : 'OnFailure') : podPolicy;
      if (this.isStopping() || !shouldRestart(policy, exit.exitCode)) {
        this.setState({ terminated });
        break;
      }
      const next = restartDelay(
        backoff,
        { startedAt: process.startedAt, finishedAt: exit.finishedAt },
        this.deps.backoff,
      );
      backoff = next.state;
      this.lastTerminated = terminated;
      if (next.delayMs === 0) {
        this.setState({ terminated });
        continue;
      }
      const pod = this.deps.pod();
      this.setState({
        waiting: {
          reason: 'CrashLoopBackOff',
          message: `back-off ${formatDuration(next.delayMs)} restarting failed container=${this.name} pod=${podRef(pod)}`,
        },
      });
      this.deps.events.record(
        pod,
        this.name,
        'Warning',
        'BackOff',
        `Back-off restarting failed container ${this.name} in pod ${podRef(pod)}`,
      );
      await this.pause(next.delayMs);
    }
  }

  private terminatedState(process: ContainerProcess, exit: ExitInfo): TerminatedState {
    const state: TerminatedState = {
      exitCode: exit.exitCode,
      reason: exit.startError !== undefined ? 'StartError' : exit.exitCode === 0 ? 'Completed' : 'Error',
      startedAt: rfc3339(process.startedAt),
      finishedAt: rfc3339(exit.finishedAt),
      containerID: process.containerId,
    };
    if (exit.signal !== undefined) state.signal = exit.signal;
    if (exit.startError !== undefined) state.message = exit.startError;
    return state;
  }

  private startProbes(process: ContainerProcess): void {
    const container = this.deps.container;
    const target = this.target;
    if (!target) return;
    const afterStartup = (): void => {
      if (container.readinessProbe) this.addProbe('readiness', process, target);
      if (container.livenessProbe) this.addProbe('liveness', process, target);
    };
    if (container.startupProbe) this.addProbe('startup', process, target, afterStartup);
    else afterStartup();
  }

  private addProbe(
    kind: ProbeKind,
    process: ContainerProcess,
    target: ActionTarget,
    onStarted?: () => void,
  ): void {
    const probe =
      kind === 'startup'
        ? this.deps.container.startupProbe
        : kind === 'readiness'
          ? this.deps.container.readinessProbe
          : this.deps.container.livenessProbe;
    if (!probe) return;
    const loop: ProbeLoop = new ProbeLoop(
      kind,
      probe,
      target,
      (state: ProbeState, outcome, before: ProbeState) => {
        if (this.process !== process) return;
        const pod = this.deps.pod();
        if (!outcome.success) {
          this.deps.events.record(
            pod,
            this.name,
            'Warning',
            'Unhealthy',
            `${loop.name} probe failed: ${outcome.message}`,
          );
        }
        if (state.result !== before.result || kind === 'startup') this.deps.changed();
        if (kind === 'startup' && state.result && !this.started) {
          this.started = true;
          this.deps.changed();
          onStarted?.();
        }
        const fatal =
          kind !== 'readiness' && !state.result && state.failures >= loop.settings.failureThreshold;
        if (fatal && !this.stopping && process.running) {
          this.deps.events.record(
            pod,
            this.name,
            'Normal',
            'Killing',
            `Container ${this.name} failed ${kind} probe, will be restarted`,
          );
          const grace = probe.terminationGracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? 30;
          this.started = false;
          this.stopProbes();
          void process.stop(grace * 1000);
        }
      },
    );
    this.probes.set(kind, loop);
    loop.start(process.startedAt);
  }

  private stopProbes(): void {
    for (const loop of this.probes.values()) loop.stop();
    this.probes.clear();
    this.deps.changed();
  }
}
