import { describe, expect, it } from 'vitest';
import { WorkQueue } from '../../../../src/operator/controller/work-queue.ts';
import { ManualClock } from '../../../support/manual-clock.ts';

const queue = (clock = new ManualClock()): WorkQueue =>
  new WorkQueue({ clock, baseDelayMs: 100, maxDelayMs: 1_000 });

describe('the work queue', () => {
  it('holds a key once however often it is added, in the order first added', async () => {
    const q = queue();
    for (const key of ['ns/a', 'ns/b', 'ns/a', 'ns/a']) q.add(key);
    expect(q.length).toBe(2);
    expect(await q.get()).toBe('ns/a');
    expect(await q.get()).toBe('ns/b');
  });

  it('never hands a key to two workers: one added while in progress comes back after done', async () => {
    const q = queue();
    q.add('ns/a');
    const key = await q.get();
    q.add('ns/a');
    expect(q.length).toBe(0);
    const second = q.get();
    q.done(key ?? '');
    expect(await second).toBe('ns/a');
  });

  it('adds after a delay, the earliest of several delayed adds winning', async () => {
    const clock = new ManualClock();
    const q = queue(clock);
    q.addAfter('ns/a', 5_000);
    q.addAfter('ns/a', 2_000);
    q.addAfter('ns/a', 9_000);
    await clock.advance(1_999);
    expect(q.length).toBe(0);
    await clock.advance(1);
    expect(q.length).toBe(1);
    await clock.advance(10_000);
    expect(q.length).toBe(1);
  });

  it('backs a failing key off exponentially up to the cap, and forgets its failures on success', async () => {
    const clock = new ManualClock();
    const q = queue(clock);
    const delays: number[] = [];
    for (let attempt = 0; attempt < 6; attempt += 1) {
      const before = clock.now();
      q.addRateLimited('ns/a');
      while (q.length === 0) await clock.advance(10);
      delays.push(clock.now() - before);
      q.done((await q.get()) ?? '');
    }
    expect(delays).toEqual([100, 200, 400, 800, 1_000, 1_000]);
    q.forget('ns/a');
    const before = clock.now();
    q.addRateLimited('ns/a');
    while (q.length === 0) await clock.advance(10);
    expect(clock.now() - before).toBe(100);
  });

  it('wakes waiting workers with nothing once shut down, and takes no more keys', async () => {
    const clock = new ManualClock();
    const q = queue(clock);
    const waiting = q.get();
    q.addAfter('ns/a', 100);
    q.shutDown();
    expect(await waiting).toBeUndefined();
    await clock.advance(1_000);
    q.add('ns/b');
    expect(await q.get()).toBeUndefined();
  });
});
