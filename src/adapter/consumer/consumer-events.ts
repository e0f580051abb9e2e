import type { ReceivedMessage } from '../types.ts';
import type { ConsumerError } from './consumer-error.ts';

/** What a settled attempt did with its message. */
export type SettledAs = 'ack' | 'retry' | 'dead';

/**
 * Everything the pool reports, in the order a message meets it. Services turn these into metrics
 * and logs; tests hook them (a fixture can die exactly at `done-marked`). Listeners run
 * synchronously inside the pool, so they must be quick and must not throw.
 */
export interface ConsumerEvents {
  received: [{ message: ReceivedMessage }];
  /** Not handled: already done (and acknowledged), or leased by another worker (retried later). */
  skipped: [{ message: ReceivedMessage; reason: 'done' | 'held' }];
  /** A handler attempt is over; `settledAs` is what happens to the message next. */
  handled: [{ message: ReceivedMessage; settledAs: SettledAs; durationMs: number }];
  /** The done mark landed (by markDone, or inside the handler's commit), before the acknowledgement. */
  'done-marked': [{ message: ReceivedMessage; via: 'mark' | 'commit' }];
  retried: [{ message: ReceivedMessage; delayMs: number; reason: string }];
  'dead-lettered': [{ message: ReceivedMessage; reason: string }];
  acked: [{ message: ReceivedMessage }];
  failure: [ConsumerError];
}
