import { describe, expect, it } from 'vitest';
import { SlotBudget } from '../../../../src/adapter/consumer/slot-budget.ts';
import { ManualClock, settle } from '../../../support/manual-clock.ts';

describe('SlotBudget', () => {
  it('grants no more than the free slots, across every fetch loop sharing it', async () => {
    const budget = new SlotBudget(10);
    const signal = new AbortController().signal;
    expect(await budget.reserve(6, signal)).toBe(6);
    expect(await budget.reserve(6, signal)).toBe(4);
    expect(budget.free).toBe(0);
  });

  it('gives back the unused part of a reservation at once', async () => {
    const budget = new SlotBudget(4);
    const signal = new AbortController().signal;
    const reserved = await budget.reserve(4, signal);
    budget.settle(reserved, 1);
    expect(budget.free).toBe(3);
  });

  it('makes a fetch wait while every slot is held, and wakes it when a message is finished', async () => {
    const budget = new SlotBudget(2);
    const signal = new AbortController().signal;
    budget.settle(await budget.reserve(2, signal), 2);
    let granted: number | undefined;
    void budget.reserve(5, signal).then((n) => (granted = n));
    await settle();
    expect(granted).toBeUndefined();

    budget.release();
    await settle();
    expect(granted).toBe(1);
  });

  it('stops waiting when the fetch is aborted, taking nothing', async () => {
    const budget = new SlotBudget(1);
    const controller = new AbortController();
    await budget.reserve(1, controller.signal);
    const waiting = budget.reserve(1, controller.signal);
    controller.abort();
    expect(await waiting).toBe(0);
    budget.release();
    expect(budget.free).toBe(1);
  });

  it('counts messages a back end sent beyond the reservation, so no more is fetched until they are done', async () => {
    const budget = new SlotBudget(3);
    const signal = new AbortController().signal;
    budget.settle(await budget.reserve(2, signal), 4);
    expect(budget.free).toBe(0);
    budget.release();
    expect(budget.free).toBe(0);
    budget.release();
    expect(budget.free).toBe(1);
  });

  describe('under load: a low-water mark instead of a fetch per freed slot', () => {
    /** A budget of 10 with every slot held. */
    async function full(): Promise<{ budget: SlotBudget; clock: ManualClock; signal: AbortSignal }> {
      const clock = new ManualClock();
      const budget = new SlotBudget(10, { clock, fillWaitMs: 2 });
      const signal = new AbortController().signal;
      budget.settle(await budget.reserve(10, signal), 10);
      return { budget, clock, signal };
    }

    it('waits until the low-water mark of slots is free, then takes every free slot', async () => {
      const { budget, signal } = await full();
      let granted: number | undefined;
      void budget.reserve(10, signal, 5).then((n) => (granted = n));
      for (let i = 0; i < 4; i++) budget.release();
      await settle();
      expect(granted).toBeUndefined();

      budget.release();
      budget.release();
      await settle();
      expect(granted).toBe(6);
    });

    it('takes what is free once the fill wait is over, so slow handlers never leave slots idle long', async () => {
      const { budget, clock, signal } = await full();
      let granted: number | undefined;
      void budget.reserve(10, signal, 5).then((n) => (granted = n));
      budget.release();
      await settle();
      await clock.advance(1);
      expect(granted).toBeUndefined();
      await clock.advance(1);
      expect(granted).toBe(1);
    });

    it('does not wait when enough slots are free, nor for more than it asked for', async () => {
      const clock = new ManualClock();
      const budget = new SlotBudget(10, { clock });
      const signal = new AbortController().signal;
      budget.settle(await budget.reserve(10, signal), 7);
      expect(await budget.reserve(10, signal, 3)).toBe(3);
      budget.settle(3, 1);
      expect(await budget.reserve(2, signal, 5)).toBe(2);
      expect(clock.scheduled).toBe(0);
    });
  });

  it('refuses a budget without slots', () => {
    expect(() => new SlotBudget(0)).toThrow(/at least one slot/);
  });
});
