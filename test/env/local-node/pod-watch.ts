import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { V1Pod } from '@kubernetes/client-node';
import { errorMessage, statusCode, type KubeHttp, type WatchEvent } from './kube-client.ts';

/** Where pod changes go. Objects are in their wire form (timestamps are strings). */
export interface PodHandler {
  upsert(pod: V1Pod): void;
  /** The pod is gone from the API server; `pod` is its last known state. */
  remove(pod: V1Pod): void;
}

export interface PodWatchOptions {
  nodeName: string;
  /** Full re-list period: catches anything a watch missed. */
  resyncMs: number;
  /** Server-side watch timeout; a watch ends (and resumes) at least this often. Default 240 s. */
  watchTimeoutSeconds?: number;
  /** Injectable for tests. */
  delay?: (ms: number, signal: AbortSignal) => Promise<void>;
}

interface PodList {
  metadata?: { resourceVersion?: string; continue?: string };
  items?: V1Pod[];
}

class Gone extends Error {}

/** Read through a call: a signal aborts while the loop awaits, which narrowing does not see. */
const isAborted = (signal: AbortSignal): boolean => signal.aborted;

const uidOf = (pod: V1Pod): string => pod.metadata?.uid ?? '';

/**
 * List-then-watch of the pods bound to one node, with its own recovery: a failed list or watch is
 * retried with capped exponential back-off, 410 Gone (or an expired resourceVersion) re-lists,
 * a stalled stream is abandoned, and a periodic re-list reconciles whatever was missed — pods that
 * vanished between a list and a watch are reported as removed.
 */
export class PodWatch {
  private readonly http: Pick<KubeHttp, 'getJson' | 'watch'>;
  private readonly handler: PodHandler;
  private readonly log: Logger;
  private readonly options: Required<Omit<PodWatchOptions, 'delay'>>;
  private readonly delay: (ms: number, signal: AbortSignal) => Promise<void>;
  private readonly known = new Map<string, V1Pod>();
  private resourceVersion = '';

  constructor(
    http: Pick<KubeHttp, 'getJson' | 'watch'>,
    handler: PodHandler,
    log: Logger,
    options: PodWatchOptions,
  ) {
    this.http = http;
    this.handler = handler;
    this.log = log;
    this.options = { watchTimeoutSeconds: 240, ...options };
    this.delay = options.delay ?? ((ms, signal) => sleep(ms, undefined, { signal }));
  }

  private get selector(): string {
    return `fieldSelector=${encodeURIComponent(`spec.nodeName=${this.options.nodeName}`)}`;
  }

  /** Runs until `signal` aborts; never throws for API trouble. */
  async run(signal: AbortSignal): Promise<void> {
    let failures = 0;
    while (!signal.aborted) {
      try {
        await this.relist(signal);
        failures = 0;
        const resyncAt = Date.now() + this.options.resyncMs;
        while (!isAborted(signal) && Date.now() < resyncAt) {
          const seconds = Math.max(
            1,
            Math.min(this.options.watchTimeoutSeconds, Math.ceil((resyncAt - Date.now()) / 1000)),
          );
          await this.watchOnce(seconds, signal);
        }
      } catch (error) {
        if (isAborted(signal)) return;
        if (error instanceof Gone) {
          this.log.info('pod watch expired (410); re-listing');
          continue;
        }
        failures++;
        const backoff = Math.min(500 * 2 ** (failures - 1), 30_000);
        this.log.warn({ err: errorMessage(error), failures, retryInMs: backoff }, 'pod list/watch failed');
        try {
          await this.delay(backoff, signal);
        } catch {
          return;
        }
      }
    }
  }

  private async relist(signal: AbortSignal): Promise<void> {
    const seen = new Map<string, V1Pod>();
    let next = '';
    let resourceVersion = '';
    do {
      const page = (await this.http.getJson(
        `/api/v1/pods?${this.selector}&limit=500${next ? `&continue=${encodeURIComponent(next)}` : ''}`,
        signal,
      )) as PodList;
      for (const pod of page.items ?? []) seen.set(uidOf(pod), pod);
      resourceVersion = page.metadata?.resourceVersion ?? resourceVersion;
      next = page.metadata?.continue ?? '';
    } while (next !== '');
    for (const [uid, pod] of this.known) {
      if (!seen.has(uid)) {
        this.known.delete(uid);
        this.handler.remove(pod);
      }
    }
    for (const [uid, pod] of seen) {
      const before = this.known.get(uid);
      this.known.set(uid, pod);
      if (before?.metadata?.resourceVersion !== pod.metadata?.resourceVersion) this.handler.upsert(pod);
    }
    this.resourceVersion = resourceVersion;
  }

  private async watchOnce(timeoutSeconds: number, signal: AbortSignal): Promise<void> {
    const path =
      `/api/v1/pods?${this.selector}&watch=true&allowWatchBookmarks=true` +
      `&resourceVersion=${encodeURIComponent(this.resourceVersion)}&timeoutSeconds=${timeoutSeconds}`;
    const seen = { gone: false };
    try {
      await this.http.watch(
        path,
        (event) => {
          seen.gone = this.apply(event) || seen.gone;
        },
        signal,
        (timeoutSeconds + 30) * 1000,
      );
    } catch (error) {
      if (statusCode(error) === 410) throw new Gone();
      throw error;
    }
    if (seen.gone) throw new Gone();
  }

  /** Applies one watch event; true when the watch must be restarted from a fresh list. */
  private apply(event: WatchEvent): boolean {
    if (event.type === 'ERROR') {
      const status = event.object as { code?: number; message?: string };
      if (status.code === 410) return true;
      throw new Error(`watch error: ${status.message ?? JSON.stringify(status)}`);
    }
    const pod = event.object as V1Pod;
    const rv = pod.metadata?.resourceVersion;
    if (rv) this.resourceVersion = rv;
    if (event.type === 'BOOKMARK') return false;
    const uid = uidOf(pod);
    if (event.type === 'DELETED') {
      this.known.delete(uid);
      this.handler.remove(pod);
    } else {
      this.known.set(uid, pod);
      this.handler.upsert(pod);
    }
    return false;
  }
}
