import type { V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import {
  expectedGroupConsumers,
  FIRST_READ_GRACE_MS,
} from '../../../../src/operator/analysis/expected-consumers.ts';

const NOW = Date.parse('2026-11-26T10:00:00Z');

function pod(name: string, options: { queueType: string; readyMsAgo?: number; leaving?: boolean }): V1Pod {
  return {
    metadata: {
      name,
      ...(options.leaving === true && { deletionTimestamp: new Date(NOW - 1_000) }),
    },
    spec: {
      containers: [
        { name: 'sidecar', env: [{ name: 'QUEUE_TYPE', value: 'redis' }] },
        { name: 'worker', env: [{ name: 'QUEUE_TYPE', value: options.queueType }] },
      ],
    },
    status: {
      conditions:
        options.readyMsAgo === undefined
          ? [{ type: 'Ready', status: 'False' }]
          : [{ type: 'Ready', status: 'True', lastTransitionTime: new Date(NOW - options.readyMsAgo) }],
    },
  };
}

describe('the consumer pods expected in the group', () => {
  it('are the ready pods of the worker container that read Redis, once past the first-read grace', () => {
    const pods = [
      pod('dual-settled', { queueType: 'dual', readyMsAgo: FIRST_READ_GRACE_MS }),
      pod('redis-settled', { queueType: 'redis', readyMsAgo: 60_000 }),
      pod('old-template-on-sqs', { queueType: 'sqs', readyMsAgo: 60_000 }),
      pod('just-ready', { queueType: 'dual', readyMsAgo: 2_000 }),
      pod('not-ready', { queueType: 'dual' }),
      pod('terminating', { queueType: 'dual', readyMsAgo: 60_000, leaving: true }),
    ];

    expect(expectedGroupConsumers(pods, 'worker', NOW)).toEqual(['dual-settled', 'redis-settled']);
  });

  it('reads the named container, not another one of the pod', () => {
    expect(
      expectedGroupConsumers([pod('on-sqs', { queueType: 'sqs', readyMsAgo: 60_000 })], 'worker', NOW),
    ).toEqual([]);
  });
});
