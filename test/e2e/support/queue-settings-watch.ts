import type { V1Deployment } from '@kubernetes/client-node';
import { systemClock, type Clock } from '../../../src/adapter/index.ts';
import { KubeApi } from '../../../src/operator/kube/kube-api.ts';
import { kubeConfigCredentials } from '../../../src/operator/kube/kube-credentials-of-kube-config.ts';
import { listWatch } from '../../../src/operator/kube/list-watch.ts';
import { adminKubeConfig } from '../../env/kube/accounts.ts';
import type { KubeEndpoint } from '../../env/state.ts';
import { waitUntil } from '../../env/wait.ts';

/** `QUEUE_TYPE/QUEUE_FALLBACK_TYPE` of a Deployment's first container, or `deleted`. */
export function queueSettingsOf(deployment: V1Deployment | undefined): string {
  if (deployment === undefined) return 'deleted';
  const env = deployment.spec?.template.spec?.containers[0]?.env ?? [];
  const value = (name: string): string => env.find((e) => e.name === name)?.value ?? '';
  return `${value('QUEUE_TYPE')}/${value('QUEUE_FALLBACK_TYPE')}`;
}

export interface QueueSettingsWatchOptions {
  /**
   * A full list this often; in between, each watch request resumes from the last resourceVersion
   * seen. Default 1 h, longer than any test: lists happen at the start, on 410 Gone and after
   * errors. Each watch request lasts at most this long, so a short value makes the server end them.
   */
  resyncMs?: number;
  /**
   * How long the watch may stay broken (failed requests, no list since) before what it saw is
   * declared incomplete. Default 180 s: the faults tier restarts the API server, which takes up to
   * 120 s to answer again.
   */
  resumeWithinMs?: number;
  /** Default: the system clock. */
  clock?: Clock;
}

/** What reading a QueueSettingsWatch throws once the watch could not resume within its budget. */
export class QueueSettingsWatchBrokenError extends Error {
  readonly code = 'QUEUE_SETTINGS_WATCH_BROKEN';

  constructor(namespace: string, brokenSince: number, resumeWithinMs: number, cause: unknown) {
    const last = cause instanceof Error ? cause.message : String(cause);
    super(
      `QUEUE_SETTINGS_WATCH_BROKEN: the watch of Deployments in ${namespace} could not resume within ` +
        `${String(resumeWithinMs)} ms (broken since ${new Date(brokenSince).toISOString()}): changes ` +
        `made since may be missing. Last error: ${last}`,
      { cause },
    );
    this.name = 'QueueSettingsWatchBrokenError';
  }
}

/**
 * Every change to the queue settings of some Deployments, in the order a watch sees them: unlike
 * polling, it misses no step however short, so tests can assert the exact order of the changes.
 * The watch outlives the server ending it, cut connections and 410 Gone (listWatch resumes or
 * lists again); a list adds only what changed since the last thing seen. When it cannot resume in
 * time, reading `changes` throws instead of passing or failing on an incomplete record.
 */
export class QueueSettingsWatch {
  private readonly recorded: string[] = [];
  private readonly last = new Map<string, string>();
  /** `<name>@<resourceVersion>` of every version recorded: a list repeats what a watch showed. */
  private readonly versions = new Set<string>();
  private readonly namespace: string;
  private readonly names: readonly string[];
  private readonly clock: Clock;
  private readonly resumeWithinMs: number;
  private readonly controller = new AbortController();
  private broken: { since: number; error: unknown } | undefined;
  private failure: QueueSettingsWatchBrokenError | undefined;
  private listCount = 0;

  private constructor(namespace: string, names: readonly string[], options: QueueSettingsWatchOptions) {
    this.namespace = namespace;
    this.names = names;
    this.clock = options.clock ?? systemClock;
    this.resumeWithinMs = options.resumeWithinMs ?? 180_000;
  }

  /** Starts watching; resolves once the watch has seen the first `present` of them. */
  static async start(
    kube: KubeEndpoint,
    namespace: string,
    names: readonly string[],
    present = names.length,
    options: QueueSettingsWatchOptions = {},
  ): Promise<QueueSettingsWatch> {
    const watch = new QueueSettingsWatch(namespace, names, options);
    // Never rejects: listWatch reports failures through onRestart and runs until aborted.
    void listWatch<V1Deployment>(
      {
        api: new KubeApi(kubeConfigCredentials(adminKubeConfig(kube))),
        path: `/apis/apps/v1/namespaces/${namespace}/deployments`,
        onList: (items) => {
          watch.listed(items);
        },
        onEvent: (type, deployment) => {
          watch.seen(deployment.metadata?.name ?? '', type === 'DELETED' ? undefined : deployment);
        },
        resyncMs: options.resyncMs ?? 3_600_000,
        clock: watch.clock,
        initialBackoffMs: 200,
        maxBackoffMs: 5_000,
        onRestart: (error) => {
          watch.interrupted(error);
        },
      },
      watch.controller.signal,
    );
    try {
      await waitUntil(
        () => {
          if (watch.broken !== undefined) throw watch.broken.error;
          return watch.last.size >= present;
        },
        { what: `the watch to list ${names.slice(0, present).join(', ')}` },
      );
    } catch (error) {
      watch.stop();
      throw error;
    }
    return watch;
  }

  /**
   * `<deployment> <settings>`, one entry a change. Throws QueueSettingsWatchBrokenError once the
   * watch failed to resume within its budget: the record may then miss changes.
   */
  get changes(): readonly string[] {
    this.checkBudget();
    if (this.failure !== undefined) throw this.failure;
    return this.recorded;
  }

  /** How many times it listed: at the start, then on each resync, 410 Gone or error. */
  get lists(): number {
    return this.listCount;
  }

  /** Forgets what was seen so far: the changes from here on are what a test asserts. */
  reset(): void {
    this.recorded.length = 0;
  }

  stop(): void {
    this.controller.abort();
  }

  private interrupted(error: unknown): void {
    this.broken = { since: this.broken?.since ?? this.clock.now(), error };
    this.checkBudget();
  }

  private listed(items: readonly V1Deployment[]): void {
    // A gap longer than the budget stays a failure even once the watch is back.
    this.checkBudget();
    this.broken = undefined;
    this.listCount += 1;
    const present = new Set(items.map((item) => item.metadata?.name ?? ''));
    for (const item of items) this.seen(item.metadata?.name ?? '', item);
    // Deleted while no watch was open to see it.
    for (const name of this.last.keys()) if (!present.has(name)) this.seen(name, undefined);
  }

  private checkBudget(): void {
    const { broken } = this;
    if (this.failure !== undefined || broken === undefined) return;
    if (this.clock.now() - broken.since <= this.resumeWithinMs) return;
    this.failure = new QueueSettingsWatchBrokenError(
      this.namespace,
      broken.since,
      this.resumeWithinMs,
      broken.error,
    );
  }

  private seen(name: string, deployment: V1Deployment | undefined): void {
    if (!this.names.includes(name)) return;
    const resourceVersion = deployment?.metadata?.resourceVersion;
    if (resourceVersion !== undefined) {
      const version = `${name}@${resourceVersion}`;
      if (this.versions.has(version)) return;
      this.versions.add(version);
    }
    const settings = queueSettingsOf(deployment);
    if (this.last.get(name) !== settings) this.recorded.push(`${name} ${settings}`);
    this.last.set(name, settings);
  }
}
