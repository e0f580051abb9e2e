import type { V1Deployment } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import {
  canaryApplyConfiguration,
  settingsApplyConfiguration,
} from '../../../../src/operator/kube/apply-configurations.ts';
import { microTime } from '../../../../src/operator/kube/leader-lease.ts';

const settings = {
  env: [
    { name: 'QUEUE_TYPE', value: 'redis' },
    { name: 'REDIS_PASSWORD', valueFrom: { secretKeyRef: { name: 'redis', key: 'password' } } },
  ],
  tlsVolume: { secretName: 'redis-tls', mountPath: '/tls' },
};

describe('server-side apply configurations', () => {
  it('hold only the operator’s fields of a Deployment: its variables and the TLS volume', () => {
    expect(settingsApplyConfiguration('ns', 'webhook', 'app', settings)).toEqual({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'webhook', namespace: 'ns' },
      spec: {
        template: {
          spec: {
            containers: [
              {
                name: 'app',
                env: settings.env,
                volumeMounts: [{ name: 'queueshift-redis-tls', mountPath: '/tls', readOnly: true }],
              },
            ],
            volumes: [{ name: 'queueshift-redis-tls', secret: { secretName: 'redis-tls' } }],
          },
        },
      },
    });
  });

  it('copy a producer into a canary the QueueMigration owns, whose pods the Service still selects', () => {
    const producer: V1Deployment = {
      metadata: { name: 'webhook', namespace: 'ns', labels: { team: 'hooks' } },
      spec: {
        replicas: 4,
        selector: { matchLabels: { app: 'webhook' } },
        strategy: { type: 'RollingUpdate' },
        template: {
          metadata: { labels: { app: 'webhook' } },
          spec: {
            containers: [
              {
                name: 'app',
                image: 'queueshift:1',
                env: [
                  { name: 'QUEUE_TYPE', value: 'sqs' },
                  { name: 'PORT', value: '8080' },
                ],
              },
              { name: 'sidecar', image: 'proxy:1' },
            ],
          },
        },
      },
    };
    const owner = { apiVersion: 'queueshift.dev/v1alpha1', kind: 'QueueMigration', name: 'm', uid: 'u-1' };
    const canary = canaryApplyConfiguration(
      producer,
      { name: 'webhook-canary', container: 'app', replicas: 1, settings },
      owner,
    );
    expect(canary).toMatchObject({
      metadata: {
        name: 'webhook-canary',
        labels: { team: 'hooks', 'queueshift.dev/canary-of': 'webhook' },
        ownerReferences: [{ ...owner, controller: true, blockOwnerDeletion: false }],
      },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: 'webhook', 'queueshift.dev/canary-of': 'webhook' } },
        strategy: { type: 'RollingUpdate' },
        template: {
          metadata: { labels: { app: 'webhook', 'queueshift.dev/canary-of': 'webhook' } },
          spec: {
            containers: [
              {
                name: 'app',
                image: 'queueshift:1',
                env: [{ name: 'PORT', value: '8080' }, ...settings.env],
                volumeMounts: [{ name: 'queueshift-redis-tls', mountPath: '/tls', readOnly: true }],
              },
              { name: 'sidecar', image: 'proxy:1' },
            ],
            volumes: [{ name: 'queueshift-redis-tls', secret: { secretName: 'redis-tls' } }],
          },
        },
      },
    });
    // The producer itself is left as it was.
    expect(producer.spec?.template.spec?.containers[0]?.env).toHaveLength(2);
  });

  it('write lease times with the six fractional digits MicroTime requires', () => {
    expect(microTime(Date.parse('2026-11-26T05:30:54.818Z'))).toBe('2026-11-26T05:30:54.818000Z');
  });
});
