import type { QueueBackend, ReceivedMessage } from '../../adapter/index.ts';

/** What one call of `move` did. */
export interface MoveReport {
  /** Entries SQS accepted and the stream then acknowledged. */
  moved: number;
  /** Entries read but not yet moved: kept in hand and tried again first by the next call. */
  waiting: number;
  /** The first failure of the call, if any. */
  error?: string;
}

export interface RedisToSqsMoverOptions {
  /**
   * The stream as the operator's own consumer of the group: its `receive` hands out this
   * consumer's pending entries first, then entries other consumers left idle past the claim time,
   * then new ones; malformed entries go to `<stream>:dlq` there.
   */
  stream: QueueBackend;
  /** The SQS queue the producers publish to again. */
  queue: QueueBackend;
  /** Budget of one SendMessage. */
  sendTimeoutMs: number;
}

/** SendMessage calls in flight at once. */
const SEND_CONCURRENCY = 10;

const message = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/**
 * Moves stream entries to SQS for a rollback whose consumers cannot drain Redis (DESIGN.md §3,
 * rollback step 3). Each entry is published with the same delivery id, body and attributes the
 * webhook gave it, so workers handle it as any other SQS message, and is acknowledged in the
 * group only once SQS accepted it; nothing is ever deleted from the stream (trimming removes
 * acknowledged entries as usual).
 *
 * A crash between the send and the acknowledgement leaves the entry pending under the mover's
 * consumer name; the next mover reads its own pending entries first and sends it again. SQS then
 * holds two copies with one delivery id: the idempotency store (keyed by that id) lets one run the
 * handler and acknowledges the other without running it, so the repeat costs a receive, nothing more.
 */
export class RedisToSqsMover {
  private readonly options: RedisToSqsMoverOptions;
  /** Read from the stream, not yet accepted by SQS. */
  private unsent: ReceivedMessage[] = [];
  /** Accepted by SQS, not yet acknowledged in the stream (the acknowledgement failed). */
  private unacknowledged: ReceivedMessage[] = [];

  constructor(options: RedisToSqsMoverOptions) {
    this.options = options;
  }

  /** Moves up to `maxEntries` entries (those in hand first); never rejects. */
  async move(maxEntries: number, signal: AbortSignal): Promise<MoveReport> {
    const problems: string[] = [];
    try {
      await this.readInto(maxEntries - this.unsent.length - this.unacknowledged.length, signal);
    } catch (error) {
      problems.push(`reading the stream: ${message(error)}`);
    }
    const { sent, failed } = await this.send(this.unsent, problems);
    this.unsent = failed;
    const toAcknowledge = [...this.unacknowledged, ...sent];
    const refused = await this.options.stream.ack(toAcknowledge);
    const [firstRefusal] = refused;
    if (firstRefusal !== undefined)
      problems.push(`acknowledging in the stream: ${firstRefusal.error.message}`);
    this.unacknowledged = refused.map((r) => r.message);
    return {
      moved: toAcknowledge.length - refused.length,
      waiting: this.unsent.length + this.unacknowledged.length,
      ...(problems[0] !== undefined && { error: problems[0] }),
    };
  }

  /**
   * Reads into `unsent` until it holds `room` more entries or the stream has none to give (a receive
   * comes back empty). Each batch is in hand as soon as it is read: the back end never hands an
   * entry it gave out a second time, so one dropped here would wait for the next operator.
   */
  private async readInto(room: number, signal: AbortSignal): Promise<void> {
    let wanted = room;
    while (wanted > 0 && !signal.aborted) {
      const batch = await this.options.stream.receive(wanted, signal);
      if (batch.length === 0) return;
      this.unsent.push(...batch);
      wanted -= batch.length;
    }
  }

  private async send(
    entries: readonly ReceivedMessage[],
    problems: string[],
  ): Promise<{ sent: ReceivedMessage[]; failed: ReceivedMessage[] }> {
    const sent: ReceivedMessage[] = [];
    const failed: ReceivedMessage[] = [];
    for (let i = 0; i < entries.length; i += SEND_CONCURRENCY) {
      const chunk = entries.slice(i, i + SEND_CONCURRENCY);
      const outcomes = await Promise.allSettled(
        chunk.map(({ deliveryId, body, attributes }) =>
          this.options.queue.publish(
            { deliveryId, body, ...(attributes !== undefined && { attributes }) },
            AbortSignal.timeout(this.options.sendTimeoutMs),
          ),
        ),
      );
      outcomes.forEach((outcome, index) => {
        const entry = chunk[index];
        if (entry === undefined) return;
        if (outcome.status === 'fulfilled') sent.push(entry);
        else {
          failed.push(entry);
          problems.push(`sending ${entry.deliveryId} to SQS: ${message(outcome.reason)}`);
        }
      });
    }
    return { sent, failed };
  }
}
