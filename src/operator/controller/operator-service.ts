import type { Logger } from 'pino';
import { pause } from '../../adapter/clock.ts';
import type { Clock } from '../../adapter/index.ts';
import { Readiness } from '../../observability/readiness.ts';
import { READINESS_TIMEOUT_MS, type ListenSettings, type Service } from '../../observability/service.ts';
import { ServiceServer } from '../../observability/service-server.ts';
import type { KubeApi } from '../kube/kube-api.ts';
import type { LeaderLease } from '../kube/leader-lease.ts';
import type { MigrationController } from './migration-controller.ts';
import type { OperatorMetrics } from './operator-metrics.ts';

export interface OperatorServiceOptions {
  api: KubeApi;
  lease: LeaderLease;
  controller: MigrationController;
  metrics: OperatorMetrics;
  clock: Clock;
  logger: Logger;
  listen: ListenSettings;
  /** Time between lease renewals (and attempts to take it). */
  renewIntervalMs: number;
  /** A leader that could not renew for this long stops acting: another may have taken over. */
  renewDeadlineMs: number;
}

/** Read at the time of the call: the signal may have aborted while the caller awaited. */
const isAborted = (signal: AbortSignal): boolean => signal.aborted;

/**
 * The operator process: /healthz, /readyz and /metrics all the time; the controller only while
 * this replica holds the leader lease. On shutdown the controller stops (reconciles in progress
 * finish), the lease is released for a standby to take at once, and the server closes.
 */
export class OperatorService implements Service {
  private readonly options: OperatorServiceOptions;

  constructor(options: OperatorServiceOptions) {
    this.options = options;
  }

  async run(signal: AbortSignal): Promise<void> {
    const { api, clock, logger, metrics, listen } = this.options;
    const readiness = new Readiness({
      // Ready when the API server answers: a standby is ready too, to take over.
      check: async () => {
        await api.request('GET', '/version');
      },
      timeoutMs: READINESS_TIMEOUT_MS,
      clock,
      logger,
    });
    const server = new ServiceServer({ ...listen, registry: metrics.registry, readiness, logger, clock });
    const port = await server.listen();
    logger.info({ port }, 'operator listening for probes and metrics');
    try {
      await this.campaign(signal);
    } finally {
      readiness.drain();
      await server.close(5_000);
    }
  }

  /** Tries for the lease until it holds it, leads until it loses it or `signal` aborts, and again. */
  private async campaign(signal: AbortSignal): Promise<void> {
    const { lease, logger, clock, renewIntervalMs } = this.options;
    while (!signal.aborted) {
      let held = false;
      try {
        held = await lease.tryAcquireOrRenew();
      } catch (error) {
        logger.warn({ err: error }, 'leader lease unreachable');
      }
      if (held) await this.lead(signal);
      else await pause(clock, renewIntervalMs, signal);
    }
  }

  private async lead(signal: AbortSignal): Promise<void> {
    const { lease, controller, logger, metrics, clock, renewIntervalMs, renewDeadlineMs } = this.options;
    logger.info('leading: the controller starts');
    metrics.leader.set(1);
    const leading = new AbortController();
    const stop = (): void => {
      leading.abort();
    };
    signal.addEventListener('abort', stop, { once: true });
    const running = controller.run(leading.signal);
    let renewedAt = clock.now();
    while (!isAborted(leading.signal)) {
      await pause(clock, renewIntervalMs, leading.signal);
      if (isAborted(leading.signal)) break;
      try {
        if (await lease.tryAcquireOrRenew()) renewedAt = clock.now();
        else {
          logger.warn('another replica holds the lease: stepping down');
          leading.abort();
        }
      } catch (error) {
        logger.warn({ err: error }, 'could not renew the leader lease');
        if (clock.now() - renewedAt > renewDeadlineMs) {
          logger.error('renew deadline passed: stepping down');
          leading.abort();
        }
      }
    }
    signal.removeEventListener('abort', stop);
    await running;
    metrics.leader.set(0);
    if (isAborted(signal)) {
      await lease.release().catch((error: unknown) => {
        logger.warn({ err: error }, 'could not release the leader lease');
      });
      logger.info('stopped leading: shutting down');
    }
  }
}
