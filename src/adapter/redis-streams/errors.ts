/**
 * Every error the Redis Streams back end throws carries one of these codes and the stream, group
 * and consumer it concerns, so that a log line says what failed where. The descriptions are the
 * reference for whoever reads a code in an alert.
 */
export const REDIS_STREAMS_ERRORS = {
  REDIS_STREAMS_INVALID_OPTIONS:
    'The back end was built with an impossible combination of settings; the message names the setting.',
  REDIS_STREAMS_CLOSED: 'The back end was closed; nothing more is sent through it.',
  REDIS_STREAMS_PUBLISH_ABORTED:
    'The caller gave up on a publish (its time budget ran out). The entry may still have been added: ' +
    'treat the outcome as unknown, which the delivery id makes safe to publish again.',
  REDIS_STREAMS_REPLICATION_SHORT:
    'WAIT returned before the configured number of replicas acknowledged the entry. The primary has it, ' +
    'but a failover now could lose it; the publish is refused so that the producer can fall back or answer 5xx.',
  REDIS_STREAMS_STREAM_MISSING: 'The stream key does not exist (never created, or deleted).',
  REDIS_STREAMS_GROUP_MISSING: 'The consumer group does not exist on the stream; ensureGroup() creates it.',
  REDIS_STREAMS_COMMAND_FAILED: 'A Redis command failed; the cause holds the server or connection error.',
  REDIS_STREAMS_UNEXPECTED_REPLY: 'Redis answered in a shape this back end does not understand.',
  REDIS_STREAMS_PING_TIMEOUT: 'Redis did not answer PING within the ping timeout.',
} as const;

export type RedisStreamsErrorCode = keyof typeof REDIS_STREAMS_ERRORS;

/** Where an error happened. `ids` are stream entry ids. */
export interface RedisStreamsErrorContext {
  stream: string;
  group?: string;
  consumer?: string;
  ids?: readonly string[];
  command?: string;
}

function describeContext(context: RedisStreamsErrorContext): string {
  const parts = [`stream ${context.stream}`];
  if (context.group !== undefined) parts.push(`group ${context.group}`);
  if (context.consumer !== undefined) parts.push(`consumer ${context.consumer}`);
  if (context.ids !== undefined && context.ids.length > 0) parts.push(`ids ${context.ids.join(',')}`);
  return parts.join(', ');
}

export class RedisStreamsError extends Error {
  readonly code: RedisStreamsErrorCode;
  readonly context: RedisStreamsErrorContext;

  constructor(
    code: RedisStreamsErrorCode,
    message: string,
    context: RedisStreamsErrorContext,
    options?: { cause?: unknown },
  ) {
    super(`${code}: ${message} (${describeContext(context)})`, options);
    this.name = 'RedisStreamsError';
    this.code = code;
    this.context = context;
  }
}

/**
 * Wraps what a Redis command threw. Missing stream and group get their own codes because the
 * operator and the consumer react to them differently from a connection failure.
 */
export function commandError(
  command: string,
  context: RedisStreamsErrorContext,
  cause: unknown,
): RedisStreamsError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  const withCommand = { ...context, command };
  if (reason.startsWith('NOGROUP')) {
    return new RedisStreamsError('REDIS_STREAMS_GROUP_MISSING', `${command}: ${reason}`, withCommand, {
      cause,
    });
  }
  if (/^ERR no such key/.test(reason)) {
    return new RedisStreamsError('REDIS_STREAMS_STREAM_MISSING', `${command}: ${reason}`, withCommand, {
      cause,
    });
  }
  return new RedisStreamsError('REDIS_STREAMS_COMMAND_FAILED', `${command} failed: ${reason}`, withCommand, {
    cause,
  });
}
