import type { V1Deployment } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { observeDeployment } from '../../../../src/operator/kube/deployment-observation.ts';

const envOwner = (
  manager: string,
  operation: 'Apply' | 'Update',
  variables: string[],
  valueField = 'f:value',
) => ({
  manager,
  operation,
  fieldsV1: {
    'f:spec': {
      'f:template': {
        'f:spec': {
          'f:containers': {
            'k:{"name":"worker"}': {
              'f:env': Object.fromEntries(
                variables.map((name) => [
                  `k:${JSON.stringify({ name })}`,
                  { '.': {}, 'f:name': {}, [valueField]: {} },
                ]),
              ),
            },
          },
        },
      },
    },
  },
});

function deployment(managedFields: object[]): V1Deployment {
  return {
    metadata: { name: 'worker', generation: 3, managedFields },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: 'worker' } },
      template: {
        spec: {
          containers: [
            {
              name: 'worker',
              env: [
                { name: 'QUEUE_TYPE', value: 'sqs' },
                {
                  name: 'REDIS_PASSWORD',
                  valueFrom: { secretKeyRef: { name: 'redis', key: 'password', optional: false } },
                },
              ],
            },
          ],
          volumes: [{ name: 'queueshift-redis-tls' }],
        },
      },
    },
    status: {
      observedGeneration: 3,
      replicas: 3,
      updatedReplicas: 2,
      availableReplicas: 2,
      conditions: [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded' }],
    },
  };
}

const observe = (d: V1Deployment) =>
  observeDeployment(d, {
    container: 'worker',
    pods: [
      {
        metadata: { name: 'worker-a' },
        status: { containerStatuses: [{ state: { waiting: { reason: 'CrashLoopBackOff' } } }] },
      },
      { metadata: { name: 'worker-b' }, status: { containerStatuses: [{ state: { running: {} } }] } },
    ] as never,
    fieldManager: 'queueshift-operator',
    managedVariables: ['QUEUE_TYPE', 'REDIS_PASSWORD'],
  });

describe('a Deployment as the stage machine sees it', () => {
  it('carries rollout figures, deadline, crash loops, the container’s env and the volumes', () => {
    expect(observe(deployment([]))).toEqual({
      name: 'worker',
      replicas: 2,
      generation: 3,
      observedGeneration: 3,
      updatedReplicas: 2,
      availableReplicas: 2,
      totalReplicas: 3,
      progressDeadlineExceeded: true,
      crashLoopingPods: ['worker-a'],
      container: {
        env: [
          { name: 'QUEUE_TYPE', value: 'sqs' },
          { name: 'REDIS_PASSWORD', valueFrom: { secretKeyRef: { name: 'redis', key: 'password' } } },
        ],
        volumeMounts: [],
      },
      volumes: ['queueshift-redis-tls'],
      foreignFields: [],
    });
  });

  it('reports no foreign owner before the operator ever applied to the Deployment', () => {
    expect(
      observe(deployment([envOwner('kubectl-client-side-apply', 'Update', ['QUEUE_TYPE'])])).foreignFields,
    ).toEqual([]);
  });

  it('names the other managers that own a managed variable’s value once the operator has applied', () => {
    const observed = observe(
      deployment([
        envOwner('queueshift-operator', 'Apply', ['REDIS_PASSWORD']),
        envOwner('argocd-controller', 'Update', ['QUEUE_TYPE', 'SQS_QUEUE_URL']),
        envOwner('flux', 'Apply', ['REDIS_PASSWORD'], 'f:valueFrom'),
      ]),
    );
    expect(observed.foreignFields).toEqual([
      { variable: 'QUEUE_TYPE', manager: 'argocd-controller' },
      { variable: 'REDIS_PASSWORD', manager: 'flux' },
    ]);
  });

  it('leaves out a value the operator still co-owns: nobody changed it since the operator applied it', () => {
    // Restarted between a transition's status write and its patch: the creator and the operator
    // both set QUEUE_TYPE=sqs; only a change by another manager takes the operator's ownership away.
    const observed = observe(
      deployment([
        envOwner('kubernetes-client-javascript', 'Update', ['QUEUE_TYPE']),
        envOwner('queueshift-operator', 'Apply', ['QUEUE_TYPE', 'REDIS_PASSWORD']),
        envOwner('kubectl-set', 'Update', ['REDIS_PASSWORD']),
      ]),
    );
    expect(observed.foreignFields).toEqual([]);
    const taken = observe(
      deployment([
        envOwner('queueshift-operator', 'Apply', ['REDIS_PASSWORD']),
        envOwner('kubectl-set', 'Update', ['QUEUE_TYPE']),
      ]),
    );
    expect(taken.foreignFields).toEqual([{ variable: 'QUEUE_TYPE', manager: 'kubectl-set' }]);
  });
});
