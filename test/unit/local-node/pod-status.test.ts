import { describe, expect, it } from 'vitest';
import {
  computePodStatus,
  podPhase,
  rfc3339,
  type ContainerSnapshot,
  type PodSnapshot,
} from '../../env/local-node/pod-status.ts';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const running = (name: string, ready: boolean): ContainerSnapshot => ({
  name,
  image: 'node:22',
  state: { running: { startedAt: '2026-01-01T00:00:00Z' } },
  restartCount: 0,
  ready,
  started: true,
  containerID: 'local://42',
});
const terminated = (exitCode: number): ContainerSnapshot['state'] => ({
  terminated: {
    exitCode,
    reason: exitCode === 0 ? 'Completed' : 'Error',
    startedAt: '2026-01-01T00:00:00Z',
    finishedAt: '2026-01-01T00:00:01Z',
    containerID: 'local://42',
  },
});
const waiting = (reason: string): ContainerSnapshot['state'] => ({ waiting: { reason } });
const snapshot = (containers: ContainerSnapshot[], restartPolicy = 'Always'): PodSnapshot => ({
  restartPolicy,
  sandboxReady: true,
  startTime: '2026-01-01T00:00:00Z',
  containers,
  scheduled: { status: 'True', lastTransitionTime: '2025-12-31T23:59:59Z' },
});
const container = (
  state: ContainerSnapshot['state'],
  extra: Partial<ContainerSnapshot> = {},
): ContainerSnapshot => ({
  name: 'c',
  image: 'i',
  state,
  restartCount: 0,
  ready: false,
  started: false,
  ...extra,
});

describe('pod phase', () => {
  const lastTerminated = {
    exitCode: 1,
    reason: 'Error',
    startedAt: '2026-01-01T00:00:00Z',
    finishedAt: '2026-01-01T00:00:01Z',
    containerID: 'local://1',
  };
  it.each([
    ['a container still creating', [container(waiting('ContainerCreating'))], 'Always', 'Pending'],
    ['a running container', [container({ running: { startedAt: 'x' } })], 'Always', 'Running'],
    ['a crash loop', [container(waiting('CrashLoopBackOff'), { lastTerminated })], 'Always', 'Running'],
    ['all exited 0, Never', [container(terminated(0))], 'Never', 'Succeeded'],
    ['one failed, Never', [container(terminated(0)), container(terminated(2))], 'Never', 'Failed'],
    ['exited 0, OnFailure', [container(terminated(0))], 'OnFailure', 'Succeeded'],
    ['exited 1, OnFailure', [container(terminated(1))], 'OnFailure', 'Running'],
    [
      'one running, one waiting',
      [container({ running: { startedAt: 'x' } }), container(waiting('CreateContainerConfigError'))],
      'Always',
      'Pending',
    ],
  ])('%s → %s', (_what, containers, policy, phase) => {
    expect(podPhase(policy, containers)).toBe(phase);
  });
});

describe('pod phase with init containers', () => {
  const init = (state: ContainerSnapshot['state']): ContainerSnapshot => container(state, { name: 'init' });
  const main = [container(waiting('PodInitializing'))];
  it.each([
    ['an init container running', [init({ running: { startedAt: 'x' } })], 'Always', 'Pending'],
    ['an init container failed, retried', [init(terminated(1))], 'OnFailure', 'Pending'],
    ['an init container failed, Never', [init(terminated(1))], 'Never', 'Failed'],
  ])('%s → %s', (_what, initContainers, policy, phase) => {
    expect(podPhase(policy, main, initContainers)).toBe(phase);
  });

  it('reports Initialized only once every init container exited 0', () => {
    const pending = computePodStatus(
      {
        ...snapshot(main),
        initContainers: [init(terminated(0)), container(waiting('PodInitializing'), { name: 'second' })],
      },
      {},
      T0,
    );
    expect(pending.status.phase).toBe('Pending');
    expect(pending.status.conditions.find((c) => c.type === 'Initialized')).toMatchObject({
      status: 'False',
      reason: 'ContainersNotInitialized',
      message: 'containers with incomplete status: [second]',
    });
    expect(pending.status.initContainerStatuses?.map((c) => c.name)).toEqual(['init', 'second']);
    const done = computePodStatus(
      { ...snapshot([running('a', true)]), initContainers: [init(terminated(0))] },
      pending.transitions,
      T0 + 1_000,
    );
    expect(done.status.phase).toBe('Running');
    expect(done.status.conditions.find((c) => c.type === 'Initialized')?.status).toBe('True');
  });
});

describe('pod status', () => {
  it('reports Ready when every container is ready, on 127.0.0.1', () => {
    const { status } = computePodStatus(snapshot([running('a', true), running('b', true)]), {}, T0);
    expect(status.phase).toBe('Running');
    expect(status.podIP).toBe('127.0.0.1');
    expect(status.hostIP).toBe('127.0.0.1');
    expect(Object.fromEntries(status.conditions.map((c) => [c.type, c.status]))).toEqual({
      PodReadyToStartContainers: 'True',
      Initialized: 'True',
      Ready: 'True',
      ContainersReady: 'True',
      PodScheduled: 'True',
    });
    expect(status.conditions.find((c) => c.type === 'PodScheduled')?.lastTransitionTime).toBe(
      '2025-12-31T23:59:59Z',
    );
    expect(status.containerStatuses[0]).toMatchObject({
      name: 'a',
      ready: true,
      started: true,
      containerID: 'local://42',
      imageID: 'local://node:22',
    });
  });

  it('names the unready containers', () => {
    const { status } = computePodStatus(snapshot([running('a', true), running('b', false)]), {}, T0);
    expect(status.conditions.find((c) => c.type === 'Ready')).toEqual({
      type: 'Ready',
      status: 'False',
      lastProbeTime: null,
      lastTransitionTime: rfc3339(T0),
      reason: 'ContainersNotReady',
      message: 'containers with unready status: [b]',
    });
  });

  it('moves lastTransitionTime only when a condition changes', () => {
    const first = computePodStatus(snapshot([running('a', false)]), {}, T0);
    const same = computePodStatus(snapshot([running('a', false)]), first.transitions, T0 + 5_000);
    expect(JSON.stringify(same.status)).toBe(JSON.stringify(first.status));
    const ready = computePodStatus(snapshot([running('a', true)]), same.transitions, T0 + 9_000);
    const at = (type: string): string | undefined =>
      ready.status.conditions.find((c) => c.type === type)?.lastTransitionTime;
    expect(at('Ready')).toBe(rfc3339(T0 + 9_000));
    expect(at('Initialized')).toBe(rfc3339(T0));
  });

  it('keeps the last termination and the restart count', () => {
    const crashed = container(waiting('CrashLoopBackOff'), { restartCount: 3 });
    const previous = terminated(3);
    if ('terminated' in previous) crashed.lastTerminated = previous.terminated;
    const { status } = computePodStatus(snapshot([crashed]), {}, T0);
    expect(status.containerStatuses[0]).toMatchObject({
      restartCount: 3,
      state: { waiting: { reason: 'CrashLoopBackOff' } },
      lastState: { terminated: { exitCode: 3, reason: 'Error' } },
    });
  });
});
