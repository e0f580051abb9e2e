import type { Logger } from 'pino';
import type { Clock } from '../../adapter/index.ts';
import type { Phase, HistoryEntry } from '../api/status-schema.ts';
import type { Owner } from '../kube/apply-configurations.ts';

export interface TransitionNotifierOptions {
  clock: Clock;
  /** A receiver that has not answered in this time is given up on. */
  timeoutMs: number;
  logger: Logger;
}

/** What a receiver gets: enough to act on and, through `seq`, to drop a duplicate. */
export interface TransitionNotification {
  migration: { namespace: string; name: string; uid: string };
  seq: number;
  at: string;
  reason: string;
  message: string;
  stage?: string;
  step?: number;
  phase: Phase;
}

export function notificationOf(
  namespace: string,
  owner: Owner,
  entry: HistoryEntry,
  phase: Phase,
): TransitionNotification {
  return {
    migration: { namespace, name: owner.name, uid: owner.uid },
    seq: entry.seq,
    at: entry.at,
    reason: entry.reason,
    message: entry.message,
    ...(entry.stage !== undefined && { stage: entry.stage }),
    ...(entry.step !== undefined && { step: entry.step }),
    phase,
  };
}

/**
 * POSTs each transition as JSON to the spec's notification URL. Best effort: a receiver that is
 * down or slow is logged and never holds up the migration (the Event and status have it all).
 */
export class TransitionNotifier {
  private readonly options: TransitionNotifierOptions;

  constructor(options: TransitionNotifierOptions) {
    this.options = options;
  }

  /** Resolves with whether the receiver accepted it (2xx); never rejects. */
  async send(url: string, notification: TransitionNotification): Promise<boolean> {
    const { clock, timeoutMs, logger } = this.options;
    const controller = new AbortController();
    const timer = clock.schedule(timeoutMs, () => {
      controller.abort(new Error(`no answer within ${timeoutMs} ms`));
    });
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(notification),
        signal: controller.signal,
      });
      await response.arrayBuffer();
      if (!response.ok)
        logger.warn({ url, status: response.status, seq: notification.seq }, 'notification refused');
      return response.ok;
    } catch (error) {
      logger.warn({ url, err: error, seq: notification.seq }, 'notification not delivered');
      return false;
    } finally {
      timer.cancel();
    }
  }
}
