import type { BackendKind, OutgoingMessage } from '../../../adapter/index.ts';
import { PluginError } from '../plugin-error.ts';

/** One dead letter as the plugin shows it, from either back end. */
export interface DeadLetter {
  backend: BackendKind;
  /** Its id in the dead-letter queue: the `<stream>:dlq` entry id, or the SQS MessageId. */
  id: string;
  /** Why it was dead-lettered; absent when the queue moved it by itself (SQS redrive policy). */
  reason: string | undefined;
  /** Deliveries before it was dead-lettered, when recorded. */
  deliveries: number | undefined;
  /** When it entered the dead-letter queue (ms since the epoch). */
  deadAt: number;
  /** Where it came from: the stream entry id or SQS MessageId of the original. */
  originalId: string | undefined;
  /** What a redrive publishes again, or why it cannot be (a malformed entry). */
  message: { ok: true; value: OutgoingMessage } | { ok: false; problem: string };
  /** Everything else the dead-letter copy carries, for `inspect`. */
  details: Readonly<Record<string, string>>;
}

export interface Redriven {
  letter: DeadLetter;
  /** Its id in the main queue or stream. */
  newId: string;
  /** Set when the dead-letter copy was already gone: someone else moved it at the same time. */
  note?: string;
}

/** The dead-letter queue of one back end of a QueueMigration. */
export interface DeadLetterSource {
  readonly backend: BackendKind;
  /** The dead-letter queue and the queue redrives go to, for messages. */
  readonly where: string;
  /** The oldest `limit` dead letters; reading changes nothing. */
  list(limit: number): Promise<DeadLetter[]>;
  find(id: string): Promise<DeadLetter | undefined>;
  /**
   * Publishes one dead letter to the main queue and only then removes it from the dead-letter
   * queue: the one with `id`, else the next one (undefined when none is left, or when `accept`
   * refuses it, which leaves it in place).
   */
  redrive(id: string | undefined, accept?: (letter: DeadLetter) => boolean): Promise<Redriven | undefined>;
  close(): Promise<void>;
}

/** The message of a dead letter, or the refusal that leaves it where it is. */
export function redrivable(letter: DeadLetter): OutgoingMessage {
  if (!letter.message.ok) {
    throw new PluginError(
      'PLUGIN_QUEUE_FAILED',
      `cannot redrive ${letter.backend} dead letter ${letter.id}: ${letter.message.problem}; it stays in the dead-letter queue`,
    );
  }
  return letter.message.value;
}
