/**
 * Probe round-trip benchmark, against the idempotency Redis of the running test environment
 * (`npm run env:up`), under a key prefix of its own that it deletes afterwards.
 * Run: `node bench/probe-round-trip.ts` (BENCH_PROBE_ROUNDS rounds, default 5).
 *
 * Each round is a real ProbeProvider round: `send`, then a `check` every PROBE_CHECK_EVERY_MS until
 * judged, reading done marks through the real store (IdempotencyStore.markedDoneAt). The "worker"
 * is this process: when a probe is published it takes the lease and marks the delivery done after
 * a random delay (5–1500 ms), noting the midpoint of its markDone call as the true done time.
 *
 * Figures, per probe, against that true time:
 * - baseline (same rounds): the time of the check that first found the mark, which is what a round
 *   trip was before done marks were dated (an upper bound, late by up to the check interval);
 * - dated: the round trip the round was judged with.
 * And status writes: the checks of a round whose status changed (a probe first found done), beside
 * the checks made (each of which wrote status when the next check time was kept in it), in these
 * rounds and in one more round that no worker marks (workers down: checked until the timeout).
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { pause, systemClock } from '../src/adapter/clock.ts';
import { IdempotencyStore } from '../src/adapter/idempotency/idempotency-store.ts';
import { PROBE_CHECK_EVERY_MS } from '../src/operator/analysis/probe-round.ts';
import { percentile } from '../src/operator/analysis/probe-readings.ts';
import { ProbeProvider } from '../src/operator/analysis/providers/probe-provider.ts';
import { required } from '../test/env/test-environment.ts';

const ROUNDS = Number(process.env['BENCH_PROBE_ROUNDS'] ?? '5');
const PROBES_PER_ROUND = 20;
const TIMEOUT_MS = 2_000;

const { idempotency } = required('redis');
const prefix = `qs-bench-probe:${randomUUID()}:`;
const storeOf = (owner: string): IdempotencyStore =>
  new IdempotencyStore({
    client: new Redis({ host: idempotency.host, port: idempotency.port }),
    keyPrefix: prefix,
    leaseMs: 5_000,
    doneRetentionMs: 21 * 24 * 3_600_000,
    owner,
  });
const worker = storeOf('bench-worker');
let workersUp = true;
const operator = storeOf('queueshift-operator');

/** True done time by delivery id, and the marks still being written. */
const trueDoneAt = new Map<string, number>();
const marking: Promise<void>[] = [];

async function markLater(deliveryId: string): Promise<void> {
  await pause(systemClock, 5 + Math.random() * 1_495);
  const acquired = await worker.acquire(deliveryId);
  if (acquired.state !== 'acquired') throw new Error(`lease of ${deliveryId}: ${acquired.state}`);
  const before = Date.now();
  await worker.markDone(acquired.lease);
  trueDoneAt.set(deliveryId, (before + Date.now()) / 2);
}

const provider = new ProbeProvider({
  migration: 'bench/probes',
  publish: (message) => {
    if (workersUp) marking.push(markLater(message.deliveryId));
    return Promise.resolve();
  },
  markedDoneAt: (deliveryId) => operator.markedDoneAt(deliveryId),
  count: PROBES_PER_ROUND,
  answerMs: 1_000,
  clock: systemClock,
  timeoutMs: TIMEOUT_MS,
  checkEveryMs: PROBE_CHECK_EVERY_MS,
});

const baselineErrors: number[] = [];
const datedErrors: number[] = [];
/** Checks of pending rounds, and those that changed status; [workers up, workers down]. */
const checks = [0, 0];
const writes = [0, 0];
try {
  for (let round = 1; round <= ROUNDS + 1; round += 1) {
    workersUp = round <= ROUNDS;
    const tally = workersUp ? 0 : 1;
    let state = await provider.send(round);
    if (state.kind !== 'pending') throw new Error(`round ${round} was judged at once`);
    const sentAt = Date.parse(state.status.sentAt);
    const foundAt = new Map<string, number>();
    while (state.kind === 'pending') {
      const before: string = JSON.stringify(state.status);
      await pause(systemClock, PROBE_CHECK_EVERY_MS);
      state = await provider.check(state.status);
      checks[tally] = (checks[tally] ?? 0) + 1;
      const now = Date.now();
      const probes = state.kind === 'pending' ? state.status.probes : [];
      if (state.kind === 'pending' && JSON.stringify(state.status) !== before)
        writes[tally] = (writes[tally] ?? 0) + 1;
      for (const p of probes)
        if (p.roundTripMs !== undefined && !foundAt.has(p.deliveryId)) foundAt.set(p.deliveryId, now);
      if (state.kind === 'judged' && workersUp) {
        await Promise.all(marking);
        for (const outcome of state.outcomes) {
          const truth = trueDoneAt.get(outcome.deliveryId);
          if (outcome.kind !== 'done' || truth === undefined)
            throw new Error(`${outcome.deliveryId}: ${outcome.kind}`);
          const firstSeen = foundAt.get(outcome.deliveryId) ?? now;
          baselineErrors.push(firstSeen - truth);
          datedErrors.push(sentAt + outcome.roundTripMs - truth);
        }
      }
    }
  }
} finally {
  await Promise.allSettled(marking);
  const admin = new Redis({ host: idempotency.host, port: idempotency.port });
  const keys = await admin.keys(`${prefix}*`);
  if (keys.length > 0) await admin.del(...keys);
  await Promise.all([admin.quit(), worker.close(), operator.close()]);
}

const summary = (errors: number[]): string => {
  const absolute = errors.map(Math.abs).sort((a, b) => a - b);
  const fmt = (ms: number | undefined): string => (ms ?? Number.NaN).toFixed(1);
  return `|error| p50 ${fmt(percentile(absolute, 0.5))} ms, p99 ${fmt(percentile(absolute, 0.99))} ms, max ${fmt(absolute.at(-1))} ms`;
};
console.log(`${datedErrors.length} probes over ${ROUNDS} rounds, checks every ${PROBE_CHECK_EVERY_MS} ms`);
console.log(`baseline (time of the check that found the mark): ${summary(baselineErrors)}`);
console.log(`dated from the done mark's PTTL:                  ${summary(datedErrors)}`);
console.log(
  `status writes by checks of pending rounds (before: one per check, the next check time was in status):\n` +
    `  workers up:   ${String(writes[0])} of ${String(checks[0])} checks\n` +
    `  workers down: ${String(writes[1])} of ${String(checks[1])} checks`,
);
