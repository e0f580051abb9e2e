import { randomUUID } from 'node:crypto';
import { sign } from '@octokit/webhooks-methods';
import { pause, type Clock, type OutgoingMessage } from '../../../adapter/index.ts';
import type { MetricSettings } from '../../api/analysis-schema.ts';
import { probeDeliveryId, probeHeaders, probeMessage, probeOf, type Probe } from '../probe-delivery.ts';
import { probeReadings, type ProbeOutcome } from '../probe-readings.ts';
import type { Reading } from '../reading.ts';
import { describeError, withinBudget, type MeasureContext, type MetricProvider } from './metric-provider.ts';

/** The producers' webhook endpoint, for probes that go the whole way a GitHub delivery goes. */
export interface ProbeHttpTarget {
  url: string;
  /** The webhook secret, read when a round needs it (it may rotate between rounds). */
  secret: () => Promise<string>;
}

export interface ProbeProviderOptions {
  /** `namespace/name` of the migration: part of every probe's delivery id. */
  migration: string;
  /** The analysis round being measured: part of every probe's delivery id. */
  round: number;
  /** Publishes into the stream through the adapter's Redis back end, as the webhook would. */
  publish: (message: OutgoingMessage) => Promise<unknown>;
  /** Whether the consumers' idempotency store holds the delivery's done mark. */
  isDone: (deliveryId: string) => Promise<boolean>;
  http?: ProbeHttpTarget;
  /** Probes published into the stream in this round (one more goes over HTTP when `http` is set). */
  count: number;
  /** How long a worker has to mark a probe done; also the budget of publishing it. */
  timeoutMs: number;
  /** How often the done marks of the round's pending probes are looked up. Default: 25 ms. */
  pollMs?: number;
  clock: Clock;
  /** Makes this measurement's delivery ids its own; default: random. */
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
 * Nothing about a round's probes is kept in status: a measurement publishes its probes and waits
 * for them within the reconcile that measures the round. An operator that stops in between leaves
 * them to the workers (a ping has no effect besides its done mark) and, as the round was never
 * counted, measures it again with fresh ids; keeping pending ids in status would take a status
 * write between publishing and judging, which the one-patch-per-pass controller does not make.
 */
export class ProbeProvider implements MetricProvider {
  readonly name = 'probes';
  private readonly options: ProbeProviderOptions;

  constructor(options: ProbeProviderOptions) {
    this.options = options;
  }

  handles(metric: MetricSettings): boolean {
    return metric.probe !== undefined;
  }

  async measure(metrics: readonly MetricSettings[], _context: MeasureContext): Promise<Map<string, Reading>> {
    const { migration, round, count, http, timeoutMs } = this.options;
    const attempt = this.options.attempt ?? randomUUID().slice(0, 8);
    const probes = Array.from({ length: count }, (_, i) =>
      probeOf(migration, probeDeliveryId(migration, round, i, attempt), 'stream'),
    );
    if (http !== undefined) {
      probes.push(probeOf(migration, probeDeliveryId(migration, round, count, attempt), 'http'));
    }
    const outcomes = await Promise.all(probes.map((probe) => this.probe(probe)));
    return probeReadings(metrics, outcomes, timeoutMs);
  }

  private async probe(probe: Probe): Promise<ProbeOutcome> {
    const { clock, timeoutMs } = this.options;
    const sentAt = clock.now();
    const sent = await this.send(probe, sentAt);
    if (sent !== undefined)
      return { deliveryId: probe.deliveryId, route: probe.route, kind: 'unpublished', reason: sent };
    return this.awaitDone(probe, sentAt + timeoutMs, sentAt);
  }

  /** Undefined once the probe is in a queue; otherwise why it is not. */
  private async send(probe: Probe, sentAt: number): Promise<string | undefined> {
    const { publish, http, clock, timeoutMs } = this.options;
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
    return withinBudget(work(), timeoutMs, clock, () => {
      controller.abort();
      return `not accepted within ${timeoutMs} ms`;
    });
  }

  private async awaitDone(probe: Probe, deadline: number, sentAt: number): Promise<ProbeOutcome> {
    const { isDone, clock } = this.options;
    const pollMs = this.options.pollMs ?? 25;
    const { deliveryId, route } = probe;
    for (;;) {
      const checkedAt = clock.now();
      const budget = Math.max(deadline - checkedAt, pollMs);
      const answer = await withinBudget(
        // Async, so that a store that cannot even be built reads as a failed check too.
        (async () => isDone(deliveryId))().then(
          (done) => ({ done }),
          (error: unknown) => ({ failed: describeError(error) }),
        ),
        budget,
        clock,
        () => ({ failed: `the idempotency store did not answer within ${budget} ms` }),
      );
      if ('failed' in answer) return { deliveryId, route, kind: 'unchecked', reason: answer.failed };
      if (answer.done) return { deliveryId, route, kind: 'done', roundTripMs: checkedAt - sentAt };
      if (clock.now() >= deadline) return { deliveryId, route, kind: 'timed-out' };
      await pause(clock, Math.min(pollMs, deadline - clock.now()));
    }
  }
}
