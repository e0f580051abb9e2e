import { LOOPBACK } from '../ports.ts';

/** Host facts that go into the Node object; gathered once by the caller. */
export interface HostFacts {
  nodeName: string;
  cpu: string;
  memoryBytes: number;
  kernelVersion: string;
  osImage: string;
  architecture: string;
  bootId: string;
  machineId: string;
  kubeletVersion: string;
}

const CONDITIONS: readonly { type: string; status: 'True' | 'False'; reason: string; message: string }[] = [
  {
    type: 'MemoryPressure',
    status: 'False',
    reason: 'KubeletHasSufficientMemory',
    message: 'kubelet has sufficient memory available',
  },
  {
    type: 'DiskPressure',
    status: 'False',
    reason: 'KubeletHasNoDiskPressure',
    message: 'kubelet has no disk pressure',
  },
  {
    type: 'PIDPressure',
    status: 'False',
    reason: 'KubeletHasSufficientPID',
    message: 'kubelet has sufficient PID available',
  },
  { type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'local node is posting ready status' },
];

function goArch(arch: string): string {
  return arch === 'x64' ? 'amd64' : arch === 'arm64' ? 'arm64' : arch;
}

/** Node metadata and spec, as registered. */
export function nodeManifest(facts: HostFacts): { metadata: object; spec: object } {
  return {
    metadata: {
      name: facts.nodeName,
      labels: {
        'kubernetes.io/hostname': facts.nodeName,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': goArch(facts.architecture),
        'beta.kubernetes.io/os': 'linux',
        'beta.kubernetes.io/arch': goArch(facts.architecture),
        'queueshift.dev/local-node': 'true',
      },
    },
    spec: {},
  };
}

/**
 * The Node's status: every condition healthy, with `lastHeartbeatTime` = now and
 * `lastTransitionTime` = when this node process registered (`since`).
 */
export function nodeStatus(facts: HostFacts, since: string, now: string): object {
  const resources = {
    cpu: facts.cpu,
    memory: String(facts.memoryBytes),
    pods: '110',
    'ephemeral-storage': '100Gi',
  };
  return {
    capacity: resources,
    allocatable: resources,
    conditions: CONDITIONS.map((c) => ({ ...c, lastHeartbeatTime: now, lastTransitionTime: since })),
    addresses: [
      { type: 'InternalIP', address: LOOPBACK },
      { type: 'Hostname', address: facts.nodeName },
    ],
    daemonEndpoints: { kubeletEndpoint: { Port: 0 } },
    nodeInfo: {
      machineID: facts.machineId,
      systemUUID: facts.machineId,
      bootID: facts.bootId,
      kernelVersion: facts.kernelVersion,
      osImage: facts.osImage,
      containerRuntimeVersion: 'local://0.1.0',
      kubeletVersion: facts.kubeletVersion,
      kubeProxyVersion: facts.kubeletVersion,
      operatingSystem: 'linux',
      architecture: goArch(facts.architecture),
    },
  };
}

/** RFC 3339 with microseconds, the format of a Lease's renewTime (metav1.MicroTime). */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/Z$/, '000Z');
}
