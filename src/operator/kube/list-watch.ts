import type { Clock } from '../../adapter/index.ts';
import { pause } from '../../adapter/clock.ts';
import { isKubeError } from './kube-api-error.ts';
import type { KubeApi, WatchEvent } from './kube-api.ts';

export interface KubeObject {
  metadata?: { name?: string; namespace?: string; resourceVersion?: string; uid?: string };
}

export interface ListWatchOptions<T extends KubeObject> {
  api: KubeApi;
  /** Collection path, such as /apis/apps/v1/deployments. */
  path: string;
  /** Every object, after each (re)list. */
  onList: (items: T[]) => void;
  onEvent: (type: 'ADDED' | 'MODIFIED' | 'DELETED', object: T) => void;
  /** A full list this often, whatever the watch says: a stalled watch cannot hide changes longer. */
  resyncMs: number;
  clock: Clock;
  /** After a failure, wait this long, doubling up to maxBackoffMs; reset after a good list. */
  initialBackoffMs: number;
  maxBackoffMs: number;
  onRestart: (error: unknown) => void;
}

/** Longest single watch request; the server ends it and the loop watches on from where it was. */
const WATCH_TIMEOUT_SECONDS = 240;

/**
 * List, then watch from the list's resourceVersion; list again on 410 Gone, on any error (after a
 * capped backoff) and every resync period. Unlike client-node's informer it never stops on an
 * error: it runs until `signal` aborts.
 */
export async function listWatch<T extends KubeObject>(
  options: ListWatchOptions<T>,
  signal: AbortSignal,
): Promise<void> {
  const { api, path, clock } = options;
  // A function, not a narrowed property: the signal aborts while the loops await.
  const stopped = (): boolean => signal.aborted;
  let backoffMs = options.initialBackoffMs;
  while (!stopped()) {
    try {
      const list = await api.request<{ items: T[]; metadata: { resourceVersion: string } }>('GET', path, {
        signal,
      });
      options.onList(list.items);
      backoffMs = options.initialBackoffMs;
      let resourceVersion = list.metadata.resourceVersion;
      const resyncAt = clock.now() + options.resyncMs;
      while (!stopped() && clock.now() < resyncAt) {
        const seconds = Math.max(
          1,
          Math.min(WATCH_TIMEOUT_SECONDS, Math.ceil((resyncAt - clock.now()) / 1_000)),
        );
        const onEvent = (event: WatchEvent): void => {
          const object = event.object as T;
          resourceVersion = object.metadata?.resourceVersion ?? resourceVersion;
          if (event.type === 'ADDED' || event.type === 'MODIFIED' || event.type === 'DELETED') {
            options.onEvent(event.type, object);
          }
        };
        await api.watch(
          path,
          { resourceVersion, allowWatchBookmarks: true, timeoutSeconds: seconds },
          onEvent,
          signal,
        );
      }
    } catch (error) {
      if (stopped()) return;
      options.onRestart(error);
      if (!isKubeError(error, 'KUBE_API_GONE')) {
        await pause(clock, backoffMs, signal);
        backoffMs = Math.min(backoffMs * 2, options.maxBackoffMs);
      }
    }
  }
}
