import fs from 'node:fs';
import os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { V1Lease, V1Node } from '@kubernetes/client-node';
import { errorMessage, mergePatch, statusCode, withTimeout, type KubeClients } from './kube-client.ts';
import { microTime, nodeManifest, nodeStatus, type HostFacts } from './node-object.ts';
import { rfc3339 } from './pod-status.ts';

const LEASE_NAMESPACE = 'kube-node-lease';
/** The kubelet's default: the node controller waits this long past renewTime before acting. */
const LEASE_DURATION_SECONDS = 40;

function readOr(file: string, fallback: string): string {
  try {
    return fs.readFileSync(file, 'utf8').trim() || fallback;
  } catch {
    return fallback;
  }
}

export function hostFacts(nodeName: string, cpu: string, kubeletVersion: string): HostFacts {
  const osRelease = readOr('/etc/os-release', '');
  const pretty = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(osRelease)?.[1];
  return {
    nodeName,
    cpu,
    memoryBytes: os.totalmem(),
    kernelVersion: os.release(),
    osImage: pretty ?? `${os.type()} ${os.release()}`,
    architecture: os.arch(),
    bootId: readOr('/proc/sys/kernel/random/boot_id', 'unknown'),
    machineId: readOr('/etc/machine-id', 'local-node'),
    kubeletVersion,
  };
}

/**
 * Registers the Node and keeps it Ready: a status heartbeat and a Lease renewal every period,
 * each retried on its own schedule so that one failed call never leaves a gap longer than the
 * period. Runs until `signal` aborts.
 */
export class NodeHeartbeat {
  private readonly clients: KubeClients;
  private readonly facts: HostFacts;
  private readonly periodMs: number;
  private readonly log: Logger;
  private readonly since = rfc3339(Date.now());
  private nodeUid: string | undefined;

  constructor(clients: KubeClients, facts: HostFacts, periodMs: number, log: Logger) {
    this.clients = clients;
    this.facts = facts;
    this.periodMs = periodMs;
    this.log = log;
  }

  /** Creates (or takes over) the Node and posts its first status and Lease. */
  async register(): Promise<void> {
    const { core } = this.clients;
    const manifest = nodeManifest(this.facts);
    let node: V1Node;
    try {
      node = await core.createNode({ body: { apiVersion: 'v1', kind: 'Node', ...manifest } });
      this.log.info({ node: this.facts.nodeName }, 'registered node');
    } catch (error) {
      if (statusCode(error) !== 409) throw error;
      // Left over from an earlier run: take it over and clear what that run may have left behind.
      node = await core.patchNode(
        { name: this.facts.nodeName, body: { ...manifest, spec: { unschedulable: false, taints: null } } },
        mergePatch(),
      );
      this.log.info({ node: this.facts.nodeName }, 'took over existing node');
    }
    this.nodeUid = node.metadata?.uid;
    await this.postStatus();
    await this.renewLease();
  }

  async postStatus(): Promise<void> {
    await this.clients.core.patchNodeStatus(
      {
        name: this.facts.nodeName,
        body: { status: nodeStatus(this.facts, this.since, rfc3339(Date.now())) },
      },
      mergePatch(),
    );
  }

  async renewLease(): Promise<void> {
    const { coordination } = this.clients;
    const name = this.facts.nodeName;
    const spec = {
      holderIdentity: name,
      leaseDurationSeconds: LEASE_DURATION_SECONDS,
      renewTime: microTime(Date.now()),
    };
    try {
      await coordination.patchNamespacedLease(
        { name, namespace: LEASE_NAMESPACE, body: { spec } },
        mergePatch(),
      );
    } catch (error) {
      if (statusCode(error) !== 404) throw error;
      const lease = {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: {
          name,
          namespace: LEASE_NAMESPACE,
          ...(this.nodeUid !== undefined && {
            ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name, uid: this.nodeUid }],
          }),
        },
        spec,
      };
      // Typed as a plain object on purpose: renewTime must keep its microseconds.
      await coordination.createNamespacedLease({
        namespace: LEASE_NAMESPACE,
        body: lease as unknown as V1Lease,
      });
    }
  }

  /** Both loops until `signal` aborts. */
  async run(signal: AbortSignal): Promise<void> {
    await Promise.all([
      this.loop('status', () => this.postStatus(), signal),
      this.loop('lease', () => this.renewLease(), signal),
    ]);
  }

  private async loop(what: string, beat: () => Promise<void>, signal: AbortSignal): Promise<void> {
    let failures = 0;
    while (!signal.aborted) {
      // After a failure, try again soon rather than a full period later.
      const wait = failures === 0 ? this.periodMs : Math.min(1_000 * 2 ** (failures - 1), this.periodMs);
      try {
        await sleep(wait, undefined, { signal });
      } catch {
        return;
      }
      try {
        await withTimeout(beat(), Math.max(this.periodMs, 5_000), `node ${what} heartbeat`);
        if (failures > 0) this.log.info({ what }, 'node heartbeat recovered');
        failures = 0;
      } catch (error) {
        failures++;
        this.log.warn({ what, failures, err: errorMessage(error) }, 'node heartbeat failed');
      }
    }
  }
}
