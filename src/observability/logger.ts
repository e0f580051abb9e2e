import { pino, type DestinationStream, type Logger } from 'pino';
import { SCRUBBED, SecretScrubber } from './secret-scrubber.ts';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface LoggerOptions {
  level: LogLevel;
  /** Values that must never reach a log line, at any level: webhook secret, passwords, tokens. */
  secrets: readonly string[];
  /** Fields on every line (service, pod). */
  base: Readonly<Record<string, string>>;
  /** Default: stdout. */
  destination?: DestinationStream;
}

/**
 * Field paths that hold credentials wherever they are logged. Path redaction alone cannot know
 * every shape a library gives its errors, so every line also goes through a SecretScrubber.
 */
const REDACTED_PATHS = [
  'password',
  'secret',
  'token',
  'authorization',
  '*.password',
  '*.secret',
  '*.token',
  '*.authorization',
  '*.*.password',
  'headers["x-hub-signature-256"]',
  'headers.authorization',
  'headers.cookie',
];

/** JSON lines on stdout, with ISO times and level names, and no secret in any of them. */
export function createLogger(options: LoggerOptions): Logger {
  const scrubber = new SecretScrubber(options.secrets);
  const settings = {
    level: options.level,
    base: { ...options.base },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
    redact: { paths: REDACTED_PATHS, censor: SCRUBBED },
    hooks: { streamWrite: (line: string) => scrubber.scrub(line) },
  };
  // Synchronous: every line is out before a crash or an exit, in the order it was logged.
  return pino(settings, options.destination ?? pino.destination({ dest: 1, sync: true }));
}
