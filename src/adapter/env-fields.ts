/**
 * The field schemas and helpers every environment parser of the project shares (the adapter's, the
 * services' and the operator's), so a duration, a port or a flag means the same everywhere and
 * every problem names its variable the same way.
 */
import { z } from 'zod';
import type { HostPort } from './config.ts';

export type Environment = Readonly<Record<string, string | undefined>>;

export interface ConfigProblem {
  variable: string;
  message: string;
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };

/** `250ms`, `5s`, `2m`, `1h`, or a bare number of milliseconds; yields milliseconds. */
export const duration = z
  .string()
  .trim()
  .regex(/^\d+(ms|s|m|h)?$/, 'must be a duration such as 500ms, 5s, 2m or a number of milliseconds')
  .transform((text) => {
    const [, digits = '0', unit = 'ms'] = /^(\d+)(ms|s|m|h)?$/.exec(text) ?? [];
    return Number(digits) * (DURATION_UNITS[unit] ?? 1);
  });

export const wholeNumber = (min: number, max: number): z.ZodType<number, string> =>
  z
    .string()
    .trim()
    .regex(/^\d+$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`));

export const port = wholeNumber(1, 65_535);

export const flag = z
  .string()
  .trim()
  .toLowerCase()
  .pipe(z.enum(['true', 'false', '1', '0', 'yes', 'no'], 'must be true or false'))
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

export const hostPort = z
  .string()
  .trim()
  .regex(/^[A-Za-z0-9.-]+:\d{1,5}$|^\[[0-9a-fA-F:]+\]:\d{1,5}$/, 'must be host:port')
  .transform((text): HostPort => {
    const colon = text.lastIndexOf(':');
    return { host: text.slice(0, colon).replace(/^\[|\]$/g, ''), port: Number(text.slice(colon + 1)) };
  })
  .refine((a) => a.port > 0 && a.port < 65_536, 'port must be between 1 and 65535');

export const hostPortList = z
  .string()
  .trim()
  .transform((text) =>
    text
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s.length > 0),
  )
  .pipe(z.array(hostPort).min(1, 'must list at least one host:port'));

/** A name or key: one word of at most 200 characters. */
export const token = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(200, 'must be at most 200 characters')
  .regex(/^\S+$/, 'must not contain spaces');

export const httpUrl = z
  .string()
  .trim()
  .pipe(z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }));

/** The address a service listens on. */
export const listenHost = z
  .string()
  .trim()
  .regex(/^[A-Za-z0-9.:-]+$/, 'must be an address such as 0.0.0.0, :: or 127.0.0.1');

/** Blank values count as unset. */
export function nonBlank(env: Environment): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).filter((entry): entry is [string, string] => (entry[1] ?? '').trim() !== ''),
  );
}

/** One problem per variable of a zod object over the environment: the first zod reports. */
export function problemsOf(error: z.ZodError): ConfigProblem[] {
  const problems = new Map<string, string>();
  for (const issue of error.issues) {
    const variable = String(issue.path[0] ?? '(environment)');
    if (!problems.has(variable)) problems.set(variable, issue.message);
  }
  return [...problems].map(([variable, message]) => ({ variable, message }));
}
