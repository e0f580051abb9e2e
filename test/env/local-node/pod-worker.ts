import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { freePort } from '../ports.ts';
import type { BackoffPolicy } from './backoff.ts';
import { prepareContainer, type LaunchSettings } from './container-launch.ts';
import { ContainerSupervisor, terminationGraceMs } from './container-supervisor.ts';
import type { EventSink } from './events.ts';
import { errorMessage, mergePatch, statusCode, withTimeout } from './kube-client.ts';
import { computePodStatus, rfc3339, type ConditionTransitions, type PodSnapshot } from './pod-status.ts';
import { PodVolumes } from './pod-volumes.ts';
import { scrapeTargetGroups, targetFile, writeTargetFile } from './scrape-targets.ts';
import { StatusWriter } from './status-writer.ts';

export const PORT_ANNOTATION = 'local-node.queueshift.dev/port';
export const PORTS_ANNOTATION = 'local-node.queueshift.dev/ports';

/** What every pod worker shares: settings, clients and sinks. */
export interface PodWorkerContext extends LaunchSettings {
  events: EventSink;
  log: Logger;
  backoff: BackoffPolicy;
  /** Pod logs and volumes go under `<podsDir>/<namespace>_<pod>/`. */
  podsDir: string;
  fileSdDir: string | undefined;
  /** Whether containers get private mount namespaces with their volumes (needs root + unshare). */
  mountNamespaces: boolean;
  /** How often Secret/ConfigMap volumes and tokens are refreshed. */
  volumeSyncMs: number;
}

const RETRY_MS = 2_000;

function podKey(pod: V1Pod): string {
  return `${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`;
}

/**
 * Runs one pod: allocates its ports (recorded as annotations), materialises its volumes, runs a
 * supervisor per container, writes the pod status when it changes, keeps its Prometheus target
 * file, and on deletion stops everything within the grace period before removing the pod.
 */
export class PodWorker {
  private pod: V1Pod;
  private readonly ctx: PodWorkerContext;
  private readonly log: Logger;
  private readonly podDir: string;
  private readonly volumes: PodVolumes;
  private readonly startTime = rfc3339(Date.now());
  private readonly supervisors: ContainerSupervisor[] = [];
  private readonly initSupervisors: ContainerSupervisor[] = [];
  private ports: Record<string, number> = {};
  private sandboxReady = false;
  private transitions: ConditionTransitions = {};
  private readonly status: StatusWriter;
  private targetWritten = '';
  private terminating: Promise<void> | undefined;
  private readonly stopped = new AbortController();

  constructor(pod: V1Pod, ctx: PodWorkerContext) {
    this.pod = pod;
    this.ctx = ctx;
    this.log = ctx.log.child({ pod: podKey(pod), uid: pod.metadata?.uid });
    this.podDir = path.join(ctx.podsDir, `${pod.metadata?.namespace ?? ''}_${pod.metadata?.name ?? ''}`);
    this.volumes = new PodVolumes(() => this.pod, this.podDir, ctx.clients, this.log);
    this.status = new StatusWriter({
      compute: () => {
        const { status, transitions } = computePodStatus(this.snapshot(), this.transitions, Date.now());
        this.transitions = transitions;
        return status;
      },
      write: async (status) => {
        const patch = ctx.clients.core.patchNamespacedPodStatus(
          { name: pod.metadata?.name ?? '', namespace: pod.metadata?.namespace ?? '', body: { status } },
          mergePatch(),
        );
        await withTimeout(patch, 15_000, 'pod status write');
      },
      written: (status) => {
        const ready = status.conditions.some((c) => c.type === 'Ready' && c.status === 'True');
        this.updateTarget(ready && !this.terminating);
      },
      log: this.log,
    });
  }

  private requestStatus(): void {
    this.status.request();
  }

  get uid(): string {
    return this.pod.metadata?.uid ?? '';
  }

  /** The pod's termination grace period. */
  get graceMs(): number {
    return terminationGraceMs(this.pod);
  }

  get isTerminating(): boolean {
    return this.terminating !== undefined;
  }

  /** The pids of the running containers (for tests and diagnostics). */
  pids(): number[] {
    return [...this.initSupervisors, ...this.supervisors]
      .map((s) => s.pid)
      .filter((pid): pid is number => pid !== undefined);
  }

  start(): void {
    void this.run().catch((error: unknown) => {
      this.log.error({ err: error }, 'pod worker failed');
    });
  }

  update(pod: V1Pod): void {
    this.pod = pod;
    if (pod.metadata?.deletionTimestamp && !this.terminating) {
      void this.terminate({ graceMs: terminationGraceMs(pod), deleteFromApi: true });
    }
  }

  /**
   * Stops every container (preStop, SIGTERM, SIGKILL after `graceMs`), then — when the pod is being
   * deleted — removes it from the API server, only after its processes are gone.
   */
  terminate(options: { graceMs: number; deleteFromApi: boolean }): Promise<void> {
    this.terminating ??= this.stop(options);
    return this.terminating;
  }

  private async run(): Promise<void> {
    fs.mkdirSync(this.podDir, { recursive: true });
    this.requestStatus();
    await this.prepareSandbox();
    if (this.terminating) return;
    this.sandboxReady = true;
    this.requestStatus();
    const supervisor = (container: V1Container, init: boolean): ContainerSupervisor =>
      new ContainerSupervisor({
        container,
        init,
        pod: () => this.pod,
        prepare: () =>
          prepareContainer(this.ctx, {
            pod: this.pod,
            container,
            port: this.ports[container.name] ?? 0,
            podDir: this.podDir,
            volumeDir: this.ctx.mountNamespaces ? (name) => this.volumes.dir(name) : undefined,
          }),
        backoff: this.ctx.backoff,
        changed: () => {
          this.requestStatus();
        },
        events: this.ctx.events,
        log: this.log,
      });
    // Init containers one after another, each to completion; a failure that is not retried
    // (restartPolicy Never) fails the pod and nothing else starts.
    for (const container of this.pod.spec?.initContainers ?? []) {
      const init = supervisor(container, true);
      this.initSupervisors.push(init);
      init.start();
      await init.done();
      if (!init.succeeded() || this.isTerminating) return;
    }
    for (const container of this.pod.spec?.containers ?? []) {
      const main = supervisor(container, false);
      this.supervisors.push(main);
      main.start();
    }
    this.requestStatus();
    void this.refreshVolumes();
  }

  /** Ports and their annotations, then volumes; retried until they succeed or the pod goes away. */
  private async prepareSandbox(): Promise<void> {
    const containers = this.pod.spec?.containers ?? [];
    for (const container of [...(this.pod.spec?.initContainers ?? []), ...containers]) {
      this.ports[container.name] = await freePort();
    }
    const first = containers[0]?.name;
    const annotations = {
      [PORT_ANNOTATION]: String(first === undefined ? '' : this.ports[first]),
      [PORTS_ANNOTATION]: JSON.stringify(
        Object.fromEntries(containers.map((c) => [c.name, this.ports[c.name]])),
      ),
    };
    while (!this.terminating) {
      try {
        const patch = this.ctx.clients.core.patchNamespacedPod(
          {
            name: this.pod.metadata?.name ?? '',
            namespace: this.pod.metadata?.namespace ?? '',
            body: { metadata: { annotations } },
          },
          mergePatch(),
        );
        await withTimeout(patch, 15_000, 'pod annotation patch');
        break;
      } catch (error) {
        if (statusCode(error) === 404) return;
        this.log.warn({ err: errorMessage(error) }, 'could not record the pod ports; retrying');
        await this.pause(RETRY_MS);
      }
    }
    if (!this.ctx.mountNamespaces) return;
    let delay = RETRY_MS;
    while (!this.terminating) {
      const result = await this.volumes.sync();
      if (result.ok) return;
      this.log.warn({ message: result.message }, 'volumes not ready');
      this.ctx.events.record(this.pod, undefined, 'Warning', 'FailedMount', result.message);
      await this.pause(delay);
      delay = Math.min(delay * 2, 30_000);
    }
  }

  private async refreshVolumes(): Promise<void> {
    if (!this.ctx.mountNamespaces) return;
    while (!this.terminating) {
      await this.pause(this.ctx.volumeSyncMs);
      if (this.isTerminating) return;
      const result = await this.volumes.sync();
      if (!result.ok) this.log.warn({ message: result.message }, 'volume refresh failed');
    }
  }

  private async pause(ms: number): Promise<void> {
    try {
      await sleep(ms, undefined, { signal: this.stopped.signal });
    } catch {
      // stopping
    }
  }

  private snapshot(): PodSnapshot {
    const scheduled = this.pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
    const initContainers = this.pod.spec?.initContainers ?? [];
    const initializing = initContainers.length > 0 && this.supervisors.length === 0;
    const snapshotOf = (
      container: V1Container,
      supervisors: readonly ContainerSupervisor[],
      reason: string,
    ) =>
      supervisors.find((s) => s.name === container.name)?.snapshot() ?? {
        name: container.name,
        image: container.image ?? '',
        state: { waiting: { reason } },
        restartCount: 0,
        ready: false,
        started: false,
      };
    const snapshot: PodSnapshot = {
      restartPolicy: this.pod.spec?.restartPolicy ?? 'Always',
      sandboxReady: this.sandboxReady,
      startTime: this.pod.status?.startTime ? String(this.pod.status.startTime) : this.startTime,
      containers: (this.pod.spec?.containers ?? []).map((c) =>
        snapshotOf(c, this.supervisors, initializing ? 'PodInitializing' : 'ContainerCreating'),
      ),
    };
    if (initContainers.length > 0) {
      snapshot.initContainers = initContainers.map((c) =>
        snapshotOf(c, this.initSupervisors, 'PodInitializing'),
      );
    }
    if (scheduled) {
      snapshot.scheduled = {
        status: scheduled.status === 'True' ? 'True' : 'False',
        lastTransitionTime: String(scheduled.lastTransitionTime),
      };
    }
    return snapshot;
  }

  private updateTarget(ready: boolean): void {
    const dir = this.ctx.fileSdDir;
    if (dir === undefined) return;
    const file = targetFile(dir, this.pod.metadata?.namespace ?? '', this.pod.metadata?.name ?? '');
    const groups = ready ? scrapeTargetGroups(this.pod, this.ports) : [];
    const content = JSON.stringify(groups);
    if (content === this.targetWritten) return;
    try {
      writeTargetFile(file, groups);
      this.targetWritten = content;
    } catch (error) {
      this.log.warn({ err: errorMessage(error), file }, 'could not write the scrape target');
    }
  }

  private async stop(options: { graceMs: number; deleteFromApi: boolean }): Promise<void> {
    this.log.info({ graceMs: options.graceMs, delete: options.deleteFromApi }, 'stopping pod');
    this.updateTarget(false);
    this.stopped.abort();
    await Promise.all([...this.initSupervisors, ...this.supervisors].map((s) => s.stop(options.graceMs)));
    this.updateTarget(false);
    if (options.deleteFromApi) {
      // Report the containers as terminated, then remove the pod: only now are its processes gone.
      this.requestStatus();
      await this.status.settled();
      await this.deleteFromApi();
    }
    this.volumes.cleanup();
    this.log.info('pod stopped');
  }

  private async deleteFromApi(): Promise<void> {
    const name = this.pod.metadata?.name ?? '';
    const namespace = this.pod.metadata?.namespace ?? '';
    for (let attempt = 0; attempt < 30; attempt++) {
      try {
        const deletion = this.ctx.clients.core.deleteNamespacedPod({
          name,
          namespace,
          gracePeriodSeconds: 0,
          body: { gracePeriodSeconds: 0, preconditions: { uid: this.uid } },
        });
        await withTimeout(deletion, 15_000, 'pod deletion');
        return;
      } catch (error) {
        const code = statusCode(error);
        if (code === 404 || code === 409) return;
        this.log.warn({ err: errorMessage(error), attempt }, 'could not delete the pod; retrying');
        await sleep(RETRY_MS);
      }
    }
  }
}
