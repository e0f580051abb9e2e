import type { PreflightFacts, RedisFacts } from '../../../src/operator/preflight/preflight-facts.ts';

/** What a healthy setting answers: noeviction, AOF everysec, room to spare, group created. */
export const HEALTHY_REDIS: RedisFacts = {
  described: 'Redis 127.0.0.1:6379',
  maxmemoryPolicy: { known: true, value: 'noeviction' },
  lossOnRestart: {
    known: true,
    value: { kind: 'bounded', upToMs: 2_000, why: 'AOF with appendfsync everysec' },
  },
  memoryHeadroom: { kind: 'value', value: 90, detail: '1 of 10 bytes used' },
  streamAndGroup: { known: true, value: 'ready' },
};

/** Facts on which every preflight check passes: the stage machine's tests start from these. */
export const PASSING_PREFLIGHT: PreflightFacts = {
  redis: { known: true, value: HEALTHY_REDIS },
  sqs: { known: true, value: { retentionSeconds: 345_600, warnings: [] } },
  autoscalers: { known: true, value: [] },
};
