import type { Redis } from 'ioredis';
import type { RedisStreamsConfig } from '../config.ts';
import { TurnPipeline } from '../redis/turn-pipeline.ts';
import { RedisStreamsError, type RedisStreamsErrorContext } from './errors.ts';
import { asNumber, asString } from './reply-shape.ts';
import { sendCommand } from './send-command.ts';

export interface StreamAppenderOptions {
  /** A connection of its own: WAIT blocks it, and must follow the XADD it confirms on the same one. */
  client: Redis;
  where: RedisStreamsErrorContext;
  waitReplicas: RedisStreamsConfig['waitReplicas'];
}

/**
 * Appends entries (to the stream or its dead-letter stream) as durably as configured: XADD, never
 * with MAXLEN, then the optional WAIT, which covers every earlier write of its connection. A caller
 * that gives up (its signal aborts) is answered at once; the entry may still have been added, so
 * the outcome is unknown, which the delivery id makes safe to publish again.
 */
export class StreamAppender {
  private readonly options: StreamAppenderOptions;
  /** Concurrent publishes share round trips: the XADDs of one turn go out as one pipeline. */
  private readonly pipeline: TurnPipeline;

  constructor(options: StreamAppenderOptions) {
    this.options = options;
    this.pipeline = new TurnPipeline(options.client);
  }

  async append(key: string, fields: readonly string[], signal?: AbortSignal): Promise<string> {
    const where = { ...this.options.where, stream: key };
    const id = asString(await this.send(where, 'XADD', [key, '*', ...fields], signal), key, 'an entry id');
    const wait = this.options.waitReplicas;
    if (wait === undefined) return id;
    const confirmed = { ...where, ids: [id] };
    const acknowledged = asNumber(
      await this.send(confirmed, 'WAIT', [wait.replicas, wait.timeoutMs], signal),
      key,
      'a replica count',
    );
    if (acknowledged < wait.replicas) {
      throw new RedisStreamsError(
        'REDIS_STREAMS_REPLICATION_SHORT',
        `${acknowledged} of ${wait.replicas} replica(s) acknowledged the entry within ${wait.timeoutMs} ms`,
        confirmed,
      );
    }
    return id;
  }

  private send(
    where: RedisStreamsErrorContext,
    command: string,
    args: readonly (string | number)[],
    signal: AbortSignal | undefined,
  ): Promise<unknown> {
    const aborted = (): RedisStreamsError =>
      new RedisStreamsError(
        'REDIS_STREAMS_PUBLISH_ABORTED',
        `${command} abandoned: ${String(signal?.reason)}`,
        where,
      );
    if (signal?.aborted) return Promise.reject(aborted());
    const sent = sendCommand(this.pipeline, where, command, args);
    if (signal === undefined) return sent;
    return new Promise((resolve, reject) => {
      const onAbort = (): void => {
        reject(aborted());
      };
      signal.addEventListener('abort', onAbort, { once: true });
      sent.then(
        (reply) => {
          signal.removeEventListener('abort', onAbort);
          resolve(reply);
        },
        (error: unknown) => {
          signal.removeEventListener('abort', onAbort);
          reject(error instanceof Error ? error : new Error(String(error)));
        },
      );
    });
  }
}
