import type { Clock } from '../../adapter/index.ts';
import type { V1Lease } from '@kubernetes/client-node';
import { isKubeError } from './kube-api-error.ts';
import type { KubeApi } from './kube-api.ts';
import { paths } from './resource-paths.ts';

export interface LeaderLeaseOptions {
  api: KubeApi;
  namespace: string;
  name: string;
  identity: string;
  /** How long a holder that stopped renewing keeps the lease. */
  leaseDurationMs: number;
  clock: Clock;
}

/** Lease times are MicroTime: RFC 3339 with exactly six fractional digits. */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

/**
 * Leader election on a coordination.k8s.io Lease. Expiry is judged on this process's own clock:
 * a lease counts as expired when its record has not changed for a lease duration since this
 * process saw it change, so clocks that disagree between nodes do not matter.
 */
export class LeaderLease {
  private readonly options: LeaderLeaseOptions;
  private observed: { record: string; at: number } | undefined;

  constructor(options: LeaderLeaseOptions) {
    this.options = options;
  }

  private path(): string {
    return paths.lease(this.options.namespace, this.options.name);
  }

  private spec(transitions: number, acquireTime: string): V1Lease['spec'] {
    const now = microTime(this.options.clock.now());
    return {
      holderIdentity: this.options.identity,
      leaseDurationSeconds: Math.ceil(this.options.leaseDurationMs / 1_000),
      acquireTime: acquireTime as unknown as Date,
      renewTime: now as unknown as Date,
      leaseTransitions: transitions,
    };
  }

  /** Takes the lease if free or expired, renews it if held; true while this process holds it. */
  async tryAcquireOrRenew(): Promise<boolean> {
    const { api, identity, clock, namespace, name } = this.options;
    let lease: V1Lease;
    try {
      lease = await api.request<V1Lease>('GET', this.path());
    } catch (error) {
      if (!isKubeError(error, 'KUBE_API_NOT_FOUND')) throw error;
      const now = microTime(clock.now());
      await api.request('POST', paths.leases(namespace), {
        body: {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: { name, namespace },
          spec: this.spec(0, now),
        },
      });
      return true;
    }
    const spec = lease.spec ?? {};
    const record = JSON.stringify([spec.holderIdentity, spec.renewTime, spec.leaseDurationSeconds]);
    if (this.observed?.record !== record) this.observed = { record, at: clock.now() };
    const holder = spec.holderIdentity ?? '';
    const expired = clock.now() - this.observed.at > (spec.leaseDurationSeconds ?? 0) * 1_000;
    if (holder !== identity && holder !== '' && !expired) return false;
    const takeover = holder !== identity;
    const acquired =
      takeover || spec.acquireTime === undefined ? microTime(clock.now()) : String(spec.acquireTime);
    try {
      await api.request('PUT', this.path(), {
        body: {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: lease.metadata,
          spec: this.spec((spec.leaseTransitions ?? 0) + (takeover ? 1 : 0), acquired),
        },
      });
    } catch (error) {
      // Another candidate wrote first: it holds the lease now.
      if (isKubeError(error, 'KUBE_API_CONFLICT')) return false;
      throw error;
    }
    return true;
  }

  /** Gives the lease up at shutdown, so that a standby takes over without waiting for expiry. */
  async release(): Promise<void> {
    const lease = await this.options.api.request<V1Lease>('GET', this.path());
    if (lease.spec?.holderIdentity !== this.options.identity) return;
    const released = structuredClone(lease.spec);
    released.holderIdentity = '';
    released.leaseDurationSeconds = 1;
    await this.options.api.request('PUT', this.path(), {
      body: { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: lease.metadata, spec: released },
    });
  }
}
