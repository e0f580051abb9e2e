import type { V1Container, V1Deployment } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { observeDeployment } from '../../../../src/operator/kube/deployment-observation.ts';

function deployment(containers: V1Container[]): V1Deployment {
  return {
    metadata: { name: 'worker' },
    spec: { selector: { matchLabels: { app: 'worker' } }, template: { spec: { containers } } },
  };
}

const observe = (containers: V1Container[]) =>
  observeDeployment(deployment(containers), {
    container: 'worker',
    pods: [],
    fieldManager: 'queueshift-operator',
    managedVariables: [],
  }).container;

describe('the envFrom sources of the managed container, as observed', () => {
  it('records each ConfigMap and Secret in order, with its prefix when it has one', () => {
    const container = observe([
      {
        name: 'worker',
        envFrom: [
          { configMapRef: { name: 'queue-settings' } },
          { secretRef: { name: 'aws', optional: true }, prefix: 'SQS_' },
          { configMapRef: { name: 'tuning' }, prefix: '' },
        ],
      },
    ]);
    expect(container?.envFrom).toEqual([
      { kind: 'ConfigMap', name: 'queue-settings' },
      { kind: 'Secret', name: 'aws', prefix: 'SQS_' },
      { kind: 'ConfigMap', name: 'tuning' },
    ]);
  });

  it('records none for a container without envFrom, nor another container’s', () => {
    const container = observe([
      { name: 'worker', env: [{ name: 'QUEUE_TYPE', value: 'sqs' }] },
      { name: 'sidecar', envFrom: [{ configMapRef: { name: 'sidecar-settings' } }] },
    ]);
    expect(container).toEqual({ env: [{ name: 'QUEUE_TYPE', value: 'sqs' }], volumeMounts: [] });
  });
});
