import { Redis } from 'ioredis';
import { afterEach } from 'vitest';
import { required } from '../../env/test-environment.ts';
import { TestQueues } from '../adapter/fixtures/test-queues.ts';

/**
 * What a test of the operator's drains works on: a stream, an SQS queue and their dead-letter
 * queues of its own, and a plain client of the stream Redis to look behind the operator's back.
 */
export interface DrainFixture {
  queues: TestQueues;
  redis: Redis;
  /** Closed after the test, the last added first. */
  closers: (() => Promise<unknown>)[];
}

/** Registers the clean-up after each test of the file; returns the set-up each test calls. */
export function useDrainFixture(): () => Promise<DrainFixture> {
  let current: DrainFixture | undefined;
  afterEach(async () => {
    if (current === undefined) return;
    const { closers, redis, queues } = current;
    current = undefined;
    for (const close of closers.reverse()) await close();
    await redis.quit();
    await queues.cleanup();
  });
  return async () => {
    const { streams } = required('redis');
    current = {
      queues: await TestQueues.create('dual'),
      redis: new Redis({ host: streams.host, port: streams.port }),
      closers: [],
    };
    return current;
  };
}

/** `resource`, closed after the test. */
export function closing<T extends { close(): Promise<unknown> }>(fixture: DrainFixture, resource: T): T {
  fixture.closers.push(() => resource.close());
  return resource;
}
