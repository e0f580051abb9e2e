import { LOOPBACK } from '../ports.ts';

/**
 * Pod status as it travels on the wire (timestamps are RFC 3339 strings), computed from what the
 * local node knows about its processes. Pure: the caller supplies the clock.
 */

export interface TerminatedState {
  exitCode: number;
  signal?: number;
  reason: string;
  message?: string;
  startedAt: string;
  finishedAt: string;
  containerID: string;
}

export type ContainerState =
  | { waiting: { reason: string; message?: string } }
  | { running: { startedAt: string } }
  | { terminated: TerminatedState };

export interface ContainerStatusWire {
  name: string;
  state: ContainerState;
  lastState: ContainerState | Record<string, never>;
  ready: boolean;
  started: boolean;
  restartCount: number;
  image: string;
  imageID: string;
  containerID?: string;
}

export interface PodConditionWire {
  type: string;
  status: 'True' | 'False';
  lastProbeTime: null;
  lastTransitionTime: string;
  reason?: string;
  message?: string;
}

export interface PodStatusWire {
  phase: 'Pending' | 'Running' | 'Succeeded' | 'Failed';
  conditions: PodConditionWire[];
  hostIP: string;
  hostIPs: { ip: string }[];
  podIP: string;
  podIPs: { ip: string }[];
  startTime: string;
  containerStatuses: ContainerStatusWire[];
  initContainerStatuses?: ContainerStatusWire[];
}

/** What a container supervisor reports about one container. */
export interface ContainerSnapshot {
  name: string;
  image: string;
  state: ContainerState;
  lastTerminated?: TerminatedState;
  restartCount: number;
  ready: boolean;
  started: boolean;
  /** `local://<pid>` of the current process, while it runs. */
  containerID?: string;
}

export interface PodSnapshot {
  restartPolicy: string;
  /** Ports allocated, annotation written, volumes materialised. */
  sandboxReady: boolean;
  startTime: string;
  containers: readonly ContainerSnapshot[];
  /** Init containers, run one after another before `containers`; they must exit 0. */
  initContainers?: readonly ContainerSnapshot[];
  /** The scheduler's PodScheduled condition, kept as the scheduler wrote it. */
  scheduled?: { status: 'True' | 'False'; lastTransitionTime: string };
}

/** Condition type → (status, since when): the memory that keeps lastTransitionTime stable. */
export type ConditionTransitions = Readonly<Record<string, { status: 'True' | 'False'; since: string }>>;

/** RFC 3339 with seconds precision, as the API server stores metav1.Time. */
export function rfc3339(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function imageId(image: string): string {
  return `local://${image}`;
}

const exitedZero = (c: ContainerSnapshot): boolean =>
  'terminated' in c.state && c.state.terminated.exitCode === 0;

/** Init containers that have not completed yet (an init container completes by exiting 0). */
export function incompleteInitContainers(initContainers: readonly ContainerSnapshot[]): string[] {
  return initContainers.filter((c) => !exitedZero(c)).map((c) => c.name);
}

/** The kubelet's phase rules (pkg/kubelet/kubelet_pods.go getPhase). */
export function podPhase(
  restartPolicy: string,
  containers: readonly ContainerSnapshot[],
  initContainers: readonly ContainerSnapshot[] = [],
): PodStatusWire['phase'] {
  if (incompleteInitContainers(initContainers).length > 0) {
    // Under Never, a failed init container fails the pod; otherwise it is retried and the pod waits.
    const failed = initContainers.some((c) => 'terminated' in c.state && c.state.terminated.exitCode !== 0);
    return failed && restartPolicy === 'Never' ? 'Failed' : 'Pending';
  }
  let running = 0;
  let waiting = 0;
  let stopped = 0;
  let succeeded = 0;
  for (const c of containers) {
    if ('running' in c.state) running++;
    else if ('terminated' in c.state) {
      stopped++;
      if (c.state.terminated.exitCode === 0) succeeded++;
    } else if (c.lastTerminated) stopped++;
    else waiting++;
  }
  if (waiting > 0) return 'Pending';
  if (running > 0) return 'Running';
  if (stopped > 0) {
    if (restartPolicy === 'Always') return 'Running';
    if (stopped === succeeded) return 'Succeeded';
    if (restartPolicy === 'Never') return 'Failed';
    return 'Running';
  }
  return 'Pending';
}

function containerStatus(c: ContainerSnapshot): ContainerStatusWire {
  const status: ContainerStatusWire = {
    name: c.name,
    state: c.state,
    lastState: c.lastTerminated ? { terminated: c.lastTerminated } : {},
    ready: c.ready,
    started: c.started,
    restartCount: c.restartCount,
    image: c.image,
    imageID: imageId(c.image),
  };
  if ('terminated' in c.state) status.containerID = c.state.terminated.containerID;
  else if ('running' in c.state && c.containerID !== undefined) status.containerID = c.containerID;
  return status;
}

/**
 * The full pod status and the updated transition memory. `lastTransitionTime` of a condition
 * changes only when its status does.
 */
export function computePodStatus(
  snapshot: PodSnapshot,
  previous: ConditionTransitions,
  nowMs: number,
): { status: PodStatusWire; transitions: ConditionTransitions } {
  const now = rfc3339(nowMs);
  const transitions: Record<string, { status: 'True' | 'False'; since: string }> = {};
  const condition = (type: string, isTrue: boolean, reason?: string, message?: string): PodConditionWire => {
    const status = isTrue ? 'True' : 'False';
    const before = previous[type];
    const since = before?.status === status ? before.since : now;
    transitions[type] = { status, since };
    const wire: PodConditionWire = { type, status, lastProbeTime: null, lastTransitionTime: since };
    if (reason !== undefined) wire.reason = reason;
    if (message !== undefined) wire.message = message;
    return wire;
  };

  const unready = snapshot.containers.filter((c) => !c.ready).map((c) => c.name);
  const initContainers = snapshot.initContainers ?? [];
  const phase = podPhase(snapshot.restartPolicy, snapshot.containers, initContainers);
  const incomplete = incompleteInitContainers(initContainers);
  const allReady = unready.length === 0 && phase === 'Running';
  const notReadyReason = phase === 'Succeeded' || phase === 'Failed' ? 'PodCompleted' : 'ContainersNotReady';
  const notReadyMessage =
    notReadyReason === 'ContainersNotReady'
      ? `containers with unready status: [${unready.join(' ')}]`
      : undefined;

  const conditions: PodConditionWire[] = [
    condition('PodReadyToStartContainers', snapshot.sandboxReady),
    incomplete.length === 0
      ? condition('Initialized', true)
      : condition(
          'Initialized',
          false,
          'ContainersNotInitialized',
          `containers with incomplete status: [${incomplete.join(' ')}]`,
        ),
    allReady ? condition('Ready', true) : condition('Ready', false, notReadyReason, notReadyMessage),
    allReady
      ? condition('ContainersReady', true)
      : condition('ContainersReady', false, notReadyReason, notReadyMessage),
    {
      type: 'PodScheduled',
      status: snapshot.scheduled?.status ?? 'True',
      lastProbeTime: null,
      lastTransitionTime: snapshot.scheduled?.lastTransitionTime ?? snapshot.startTime,
    },
  ];

  const status: PodStatusWire = {
    phase,
    conditions,
    hostIP: LOOPBACK,
    hostIPs: [{ ip: LOOPBACK }],
    podIP: LOOPBACK,
    podIPs: [{ ip: LOOPBACK }],
    startTime: snapshot.startTime,
    containerStatuses: snapshot.containers.map(containerStatus),
  };
  if (initContainers.length > 0) status.initContainerStatuses = initContainers.map(containerStatus);
  return { status, transitions };
}
