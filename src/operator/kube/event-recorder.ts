import type { HistoryEntry } from '../api/status-schema.ts';
import type { KubeApi } from './kube-api.ts';
import { paths } from './resource-paths.ts';
import type { Owner } from './apply-configurations.ts';
import { unlessKubeError } from './unless-kube-error.ts';

export const REPORTING_COMPONENT = 'queueshift-operator';

/**
 * Name of the Event of a history entry. Derived from the object's uid and the entry's sequence
 * number, so that recording it again (after a restart) finds it already there instead of
 * duplicating it.
 */
export function eventName(owner: Owner, entry: HistoryEntry): string {
  return `${owner.name}.${owner.uid.slice(0, 8)}.${entry.seq}`;
}

export type EventType = 'Normal' | 'Warning';

export class EventRecorder {
  private readonly api: KubeApi;
  private readonly instance: string;
  /** Names of Events this process created or found present: never posted again. */
  private readonly present = new Set<string>();

  constructor(api: KubeApi, instance: string) {
    this.api = api;
    this.instance = instance;
  }

  /** Creates the Event of a history entry, once. */
  async record(namespace: string, owner: Owner, entry: HistoryEntry, type: EventType): Promise<void> {
    const name = eventName(owner, entry);
    const body = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name, namespace },
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
    // A conflict is the Event of this entry, recorded before a restart: it stays as it is.
    await unlessKubeError('KUBE_API_CONFLICT', () =>
      this.api.request('POST', paths.events(namespace), { body }),
    );
    this.present.add(name);
  }

  /**
   * Creates the Events of persisted history entries that this process has not recorded yet. A
   * transition is written to status before its patches and its Event, so a crash in between
   * leaves an entry without its Event; the next process catches up here. Once per entry and
   * process: an Event already there answers 409 and is remembered.
   */
  async recordHistory(
    namespace: string,
    owner: Owner,
    history: readonly HistoryEntry[],
    typeOf: (reason: string) => EventType,
  ): Promise<void> {
    for (const entry of history) {
      if (!this.present.has(eventName(owner, entry)))
        await this.record(namespace, owner, entry, typeOf(entry.reason));
    }
  }
}
