import { randomUUID } from 'node:crypto';
import { sign } from '@octokit/webhooks-methods';
import type { Clock, OutgoingMessage } from '../../../adapter/index.ts';
import type { ProbeRoundStatus } from '../../api/status-schema.ts';
import { probeDeliveryId, probeHeaders, probeMessage, probeOf, type Probe } from '../probe-delivery.ts';
import {
  checkedRound,
  sentRound,
  unmarkedProbes,
  type DoneMarks,
  type ProbeRoundState,
  type ProbeTiming,
} from '../probe-round.ts';
import { describeError, withinBudget } from './metric-provider.ts';

/** The producers' webhook endpoint, for probes that go the whole way a GitHub delivery goes. */
export interface ProbeHttpTarget {
  url: string;
  /** The webhook secret, read when a round needs it (it may rotate between rounds). */
  secret: () => Promise<string>;
}

export interface ProbeProviderOptions extends ProbeTiming {
  /** `namespace/name` of the migration: part of every probe's delivery id. */
  migration: string;
  /** Publishes into the stream through the adapter's Redis back end, as the webhook would. */
  publish: (message: OutgoingMessage) => Promise<unknown>;
  /**
   * When the consumers' idempotency store marked the delivery done (on `clock`), undefined when it
   * did not; calls made together share one round trip.
   */
  markedDoneAt: (deliveryId: string) => Promise<number | undefined>;
  http?: ProbeHttpTarget;
  /** Probes published into the stream in a round (one more goes over HTTP when `http` is set). */
  count: number;
  /** Budget of one publish, and of one check of the done marks; past it, that step failed. */
  answerMs: number;
  clock: Clock;
  /** Makes this round's delivery ids its own; default: random. */
  attempt?: string;
}

/** The webhook answers 202 once a queue accepted the delivery; anything else did not enqueue it. */
async function sendSigned(target: ProbeHttpTarget, probe: Probe, signal: AbortSignal): Promise<void> {
  const signature = await sign(await target.secret(), probe.payload);
  const response = await fetch(target.url, {
    method: 'POST',
    headers: probeHeaders(probe, signature),
    body: probe.payload,
    signal,
  });
  const text = await response.text();
  if (response.status !== 202) {
    throw new Error(`${target.url} answered ${response.status}: ${text.slice(0, 200)}`);
  }
}

/**
 * Synthetic `ping` deliveries, each with a delivery id of its own, published into the stream (and
 * sent signed to the producers when a URL is set). A probe succeeds when the consumers'
 * idempotency store holds its done mark within the timeout: an acknowledgement alone proves
 * nothing, since dead-lettered entries are acknowledged too.
 *
 * A round takes several passes and no pass waits for a worker: `send` publishes and returns the
 * round to keep in status; each later `check` reads the done marks once and returns the round
 * judged (probe-round.ts) or still pending. The ids live in status, so a restarted operator checks
 * the probes that were sent rather than sending new ones.
 */
export class ProbeProvider {
  private readonly options: ProbeProviderOptions;

  constructor(options: ProbeProviderOptions) {
    this.options = options;
  }

  /** Publishes the probes of `round`, all at once, and returns without waiting for any worker. */
  async send(round: number): Promise<ProbeRoundState> {
    const { migration, count, http, clock } = this.options;
    const attempt = this.options.attempt ?? randomUUID().slice(0, 8);
    const probes = Array.from({ length: count }, (_, i) =>
      probeOf(migration, probeDeliveryId(migration, round, i, attempt), 'stream'),
    );
    if (http !== undefined) {
      probes.push(probeOf(migration, probeDeliveryId(migration, round, count, attempt), 'http'));
    }
    const sentAt = clock.now();
    const refusals = await Promise.all(
      probes.map(async (probe) => [probe.deliveryId, await this.publish(probe, sentAt)] as const),
    );
    return sentRound(
      round,
      sentAt,
      probes,
      new Map(refusals.flatMap(([id, reason]) => (reason === undefined ? [] : [[id, reason] as const]))),
    );
  }

  /**
   * Reads the done marks of the probes not yet found done (one read each, issued together), judged
   * as of the read's answer: no mark found can be dated later than that.
   */
  async check(sent: ProbeRoundStatus): Promise<ProbeRoundState> {
    const marks = await this.doneMarks(unmarkedProbes(sent));
    return checkedRound(sent, marks, this.options.clock.now(), this.options);
  }

  private async doneMarks(ids: readonly string[]): Promise<DoneMarks> {
    const { markedDoneAt, clock, answerMs } = this.options;
    // Async, so that a store that cannot even be built reads as a failed check too.
    const read = (async (): Promise<DoneMarks> => {
      const answers = await Promise.all(
        ids.map(async (id) => {
          const doneAt = await markedDoneAt(id);
          return doneAt === undefined ? [] : [[id, doneAt] as const];
        }),
      );
      return { kind: 'read', doneAt: new Map(answers.flat()) };
    })().catch((error: unknown): DoneMarks => ({ kind: 'failed', reason: describeError(error) }));
    return withinBudget(read, answerMs, clock, () => ({
      kind: 'failed',
      reason: `the idempotency store did not answer within ${answerMs} ms`,
    }));
  }

  /** Undefined once the probe is in a queue; otherwise why it is not. */
  private async publish(probe: Probe, sentAt: number): Promise<string | undefined> {
    const { publish, http, clock, answerMs } = this.options;
    const controller = new AbortController();
    const work = async (): Promise<string | undefined> => {
      try {
        if (probe.route === 'http' && http !== undefined) await sendSigned(http, probe, controller.signal);
        else await publish(probeMessage(probe, sentAt));
        return undefined;
      } catch (error) {
        return describeError(error);
      }
    };
    return withinBudget(work(), answerMs, clock, () => {
      controller.abort();
      return `not accepted within ${answerMs} ms`;
    });
  }
}
