import type { V1Deployment, V1Pod, V1ReplicaSet } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { currentTemplatePods } from '../../../../src/operator/kube/current-template-pods.ts';

const WORKER_UID = '3f1c2a4e-9b1d-4c55-a0c2-6d0f6f0b7a11';
const CANARY_UID = '8a7d1e02-51a4-4a8e-9c1e-2b7f3d9e0c42';

/** The worker Deployment as the API server returns it, at `generation` and `revision`. */
function worker(generation: number, observedGeneration: number, revision?: string): V1Deployment {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: 'worker',
      namespace: 'pipeline',
      uid: WORKER_UID,
      generation,
      ...(revision !== undefined && { annotations: { 'deployment.kubernetes.io/revision': revision } }),
    },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: 'worker' } },
      template: { metadata: { labels: { app: 'worker' } }, spec: { containers: [] } },
    },
    status: { observedGeneration, replicas: 2, updatedReplicas: 1, availableReplicas: 1 },
  };
}

/** A ReplicaSet the Deployment controller made for one template of `owner`. */
function replicaSet(
  hash: string,
  revision: string,
  owner = { name: 'worker', uid: WORKER_UID },
): V1ReplicaSet {
  return {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: {
      name: `${owner.name}-${hash}`,
      namespace: 'pipeline',
      labels: { app: 'worker', 'pod-template-hash': hash },
      annotations: {
        'deployment.kubernetes.io/desired-replicas': '1',
        'deployment.kubernetes.io/max-replicas': '2',
        'deployment.kubernetes.io/revision': revision,
      },
      ownerReferences: [
        {
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          name: owner.name,
          uid: owner.uid,
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    spec: { replicas: 1, selector: { matchLabels: { app: 'worker', 'pod-template-hash': hash } } },
  };
}

/** A pod of the template `hash`, crash-looping or running. */
function pod(hash: string, suffix: string, waiting?: string): V1Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: `worker-${hash}-${suffix}`,
      namespace: 'pipeline',
      labels: { app: 'worker', 'pod-template-hash': hash },
    },
    status: {
      phase: 'Running',
      containerStatuses: [
        {
          name: 'worker',
          image: 'queueshift:dev',
          imageID: '',
          ready: waiting === undefined,
          restartCount: waiting === undefined ? 0 : 4,
          state: waiting === undefined ? { running: {} } : { waiting: { reason: waiting } },
        },
      ],
    },
  };
}

// Two templates of the worker: `5495bc658d` (SQS only) and `7c9d8f6b4a` (dual); a canary
// Deployment with the same pod labels has a ReplicaSet of its own.
const SQS = replicaSet('5495bc658d', '1');
const DUAL = replicaSet('7c9d8f6b4a', '2');
const SQS_RENUMBERED = replicaSet('5495bc658d', '3');
const CANARY = replicaSet('6b8f7d9c5e', '4', { name: 'worker-canary', uid: CANARY_UID });
const PODS = [
  pod('5495bc658d', 'x2k9q', 'CrashLoopBackOff'),
  pod('7c9d8f6b4a', 'p4m7w'),
  pod('6b8f7d9c5e', 'c8v3n', 'CrashLoopBackOff'),
];

describe('the pods of a Deployment’s current template', () => {
  it.each<[string, V1Deployment, V1ReplicaSet[], string[]]>([
    [
      'rolling out a new template: only its pods, not the old template’s crash loop',
      worker(2, 2, '2'),
      [SQS, DUAL],
      ['worker-7c9d8f6b4a-p4m7w'],
    ],
    [
      'the old template is still the current one: its pods, crash loop included',
      worker(1, 1, '1'),
      [SQS],
      ['worker-5495bc658d-x2k9q'],
    ],
    [
      'a canary’s ReplicaSet selected by the same labels: not the Deployment’s, whatever its revision',
      worker(2, 2, '2'),
      [SQS, DUAL, CANARY],
      ['worker-7c9d8f6b4a-p4m7w'],
    ],
    [
      'back to an earlier template, once the Deployment carries its new revision: that template’s pods',
      worker(3, 3, '3'),
      [SQS_RENUMBERED, DUAL],
      ['worker-5495bc658d-x2k9q'],
    ],
    [
      'a generation the controller has not seen: the revision is the previous template’s, none',
      worker(3, 2, '2'),
      [SQS, DUAL],
      [],
    ],
    [
      'back to an earlier template, its ReplicaSet renumbered before the Deployment: none',
      worker(3, 3, '2'),
      [SQS_RENUMBERED, DUAL],
      [],
    ],
    ['the current ReplicaSet not created yet: none', worker(2, 2, '2'), [SQS], []],
    ['a Deployment without a revision yet: none', worker(1, 1), [], []],
  ])('%s', (_what, deployment, replicaSets, names) => {
    const pods = currentTemplatePods(deployment, replicaSets, PODS);
    expect(pods.map((p) => p.metadata?.name)).toEqual(names);
  });
});
