import { describe, expect, it } from 'vitest';
import type { RedisStreamsConfig } from '../../../../src/adapter/config.ts';
import { resolveOptions, type RedisStreamsOptions } from '../../../../src/adapter/redis-streams/options.ts';

const config: RedisStreamsConfig = {
  connection: { endpoint: { kind: 'standalone', address: { host: '127.0.0.1', port: 6379 } } },
  stream: 'queueshift:s',
  group: 'g',
  consumerName: 'pod-1',
  blockMs: 2_000,
  claimIdleMs: 60_000,
  maxDeliveries: 5,
};

describe('redis streams options', () => {
  it('defaults fit the default configuration', () => {
    expect(resolveOptions(config, {})).toMatchObject({
      watchdogGraceMs: 2_000,
      claimIntervalMs: 5_000,
      maintenanceIntervalMs: 30_000,
      idleConsumerMs: 3_600_000,
      activeConsumerWindowMs: 30_000,
    });
  });

  it.each<[string, Partial<RedisStreamsConfig>, RedisStreamsOptions, RegExp]>([
    [
      'a zero interval',
      {},
      { claimIntervalMs: 0 },
      /claimIntervalMs must be a positive whole number of ms, got 0/,
    ],
    ['a fractional grace', {}, { watchdogGraceMs: 1.5 }, /watchdogGraceMs must be a positive whole number/],
    [
      'no deliveries allowed',
      { maxDeliveries: 0 },
      {},
      /maxDeliveries must be a positive whole number, got 0/,
    ],
    [
      'an activity window a waiting consumer falls out of',
      {},
      { activeConsumerWindowMs: 4_000 },
      /activeConsumerWindowMs \(4000\) must exceed blockMs \+ watchdogGraceMs \(4000\)/,
    ],
    [
      'deleting consumers that still count as active',
      {},
      { idleConsumerMs: 30_000 },
      /idleConsumerMs \(30000\) must exceed activeConsumerWindowMs \(30000\)/,
    ],
    [
      'WAIT for no replica',
      { waitReplicas: { replicas: 0, timeoutMs: 100 } },
      {},
      /waitReplicas needs at least 1 replica/,
    ],
  ])('refuses %s, naming the setting and the stream', (_case, overrides, options, message) => {
    expect(() => resolveOptions({ ...config, ...overrides }, options)).toThrow(message);
    expect(() => resolveOptions({ ...config, ...overrides }, options)).toThrow(
      /^REDIS_STREAMS_INVALID_OPTIONS: .*\(stream queueshift:s, group g, consumer pod-1\)$/,
    );
  });
});
