import type { HistoryEntry } from '../api/status-schema.ts';
import { isKubeError } from './kube-api-error.ts';
import type { KubeApi } from './kube-api.ts';
import { paths } from './resource-paths.ts';
import type { Owner } from './apply-configurations.ts';

export const REPORTING_COMPONENT = 'queueshift-operator';

/**
 * Name of the Event of a history entry. Derived from the object's uid and the entry's sequence
 * number, so that recording it again (after a restart) finds it already there instead of
 * duplicating it.
 */
export function eventName(owner: Owner, entry: HistoryEntry): string {
  return `${owner.name}.${owner.uid.slice(0, 8)}.${entry.seq}`;
}

export class EventRecorder {
  private readonly api: KubeApi;
  private readonly instance: string;

  constructor(api: KubeApi, instance: string) {
    this.api = api;
    this.instance = instance;
  }

  /** Creates the Event of a history entry, once. */
  async record(
    namespace: string,
    owner: Owner,
    entry: HistoryEntry,
    type: 'Normal' | 'Warning',
  ): Promise<void> {
    const body = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: eventName(owner, entry), namespace },
      involvedObject: {
        apiVersion: owner.apiVersion,
        kind: owner.kind,
        name: owner.name,
        namespace,
        uid: owner.uid,
      },
      reason: entry.reason,
      message: entry.message,
      type,
      count: 1,
      firstTimestamp: entry.at,
      lastTimestamp: entry.at,
      source: { component: REPORTING_COMPONENT },
      reportingComponent: REPORTING_COMPONENT,
      reportingInstance: this.instance,
    };
    try {
      await this.api.request('POST', paths.events(namespace), { body });
    } catch (error) {
      if (!isKubeError(error, 'KUBE_API_CONFLICT')) throw error;
    }
  }
}
