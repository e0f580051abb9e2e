import type { Logger } from 'pino';
import type { CoreV1Api, CoreV1Event, V1Pod } from '@kubernetes/client-node';
import { errorMessage } from './kube-client.ts';

export type EventType = 'Normal' | 'Warning';

export interface EventSink {
  record(pod: V1Pod, container: string | undefined, type: EventType, reason: string, message: string): void;
}

/**
 * Pod events as the kubelet reports them (Started, Killing, BackOff, Unhealthy, …). Best effort:
 * a failed create is logged, never retried. The same event for the same container is sent at most
 * once per `repeatMs`, so a crash loop or a failing probe does not flood the API server.
 */
export class EventRecorder implements EventSink {
  private readonly core: CoreV1Api;
  private readonly nodeName: string;
  private readonly log: Logger;
  private readonly repeatMs: number;
  private readonly lastSent = new Map<string, number>();

  constructor(core: CoreV1Api, nodeName: string, log: Logger, repeatMs = 30_000) {
    this.core = core;
    this.nodeName = nodeName;
    this.log = log;
    this.repeatMs = repeatMs;
  }

  record(pod: V1Pod, container: string | undefined, type: EventType, reason: string, message: string): void {
    const namespace = pod.metadata?.namespace ?? 'default';
    const name = pod.metadata?.name ?? '';
    const key = `${pod.metadata?.uid ?? ''}/${container ?? ''}/${reason}/${message}`;
    const now = Date.now();
    const last = this.lastSent.get(key);
    if (last !== undefined && now - last < this.repeatMs) return;
    this.lastSent.set(key, now);
    if (this.lastSent.size > 5_000) this.lastSent.clear();
    const timestamp = new Date(now);
    const body: CoreV1Event = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: {
        name: `${name}.${now.toString(16)}${Math.floor(Math.random() * 0xfff).toString(16)}`,
        namespace,
      },
      involvedObject: {
        apiVersion: 'v1',
        kind: 'Pod',
        namespace,
        name,
        ...(pod.metadata?.uid !== undefined && { uid: pod.metadata.uid }),
        ...(container !== undefined && { fieldPath: `spec.containers{${container}}` }),
      },
      type,
      reason,
      message,
      count: 1,
      firstTimestamp: timestamp,
      lastTimestamp: timestamp,
      source: { component: 'kubelet', host: this.nodeName },
      reportingComponent: 'kubelet',
      reportingInstance: this.nodeName,
    };
    this.core.createNamespacedEvent({ namespace, body }).catch((error: unknown) => {
      this.log.debug(
        { err: errorMessage(error), reason, pod: `${namespace}/${name}` },
        'could not record event',
      );
    });
  }
}
