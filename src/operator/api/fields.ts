import { z } from 'zod';
import { withRules } from './cel-rule.ts';
import { DURATION_PATTERN, durationMs } from './durations.ts';

/**
 * Field types shared across the spec. Every string and list is bounded: CEL rules are refused by
 * the API server when their estimated cost is unbounded, and the bounds are what make it finite.
 */

/** A Deployment or Secret name: a DNS-1123 subdomain. */
export const objectName = (what: string): z.ZodString =>
  z
    .string()
    .min(1)
    .max(253)
    .regex(
      /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/,
      `must be a DNS-1123 subdomain (lower case letters, digits, '-' and '.'): ${what}`,
    )
    .describe(what);

/** A container or metric name: a DNS-1123 label. */
export const labelName = (what: string): z.ZodString =>
  z
    .string()
    .min(1)
    .max(63)
    .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, `must be a DNS-1123 label: ${what}`)
    .describe(what);

/** `host:port`, the form REDIS_ADDRESS and REDIS_SENTINEL_ADDRESSES use. */
export const hostPort = (what: string): z.ZodString =>
  z
    .string()
    .max(261)
    .regex(/^([A-Za-z0-9.-]{1,253}|\[[0-9a-fA-F:]{2,39}\]):[0-9]{1,5}$/, `must be host:port: ${what}`)
    .describe(what);

/** A Go-notation duration of at least `min`. */
export const duration = (what: string, min: string, fallback: string): z.ZodDefault<z.ZodString> =>
  withRules(
    z
      .string()
      .max(32)
      .regex(new RegExp(DURATION_PATTERN), `must be a duration such as 30s, 5m or 1h30m: ${what}`),
    [
      {
        cel: `duration(self) >= duration('${min}')`,
        holds: (text) => !new RegExp(DURATION_PATTERN).test(text) || durationMs(text) >= durationMs(min),
        message: `must be at least ${min}`,
      },
    ],
  )
    .default(fallback)
    .describe(`${what} (a duration such as 30s, 5m or 1h30m; at least ${min}).`);

/** An absolute http(s) URL. */
export const httpUrl = (what: string): z.ZodString =>
  withRules(z.string().min(1).max(2048), [
    {
      cel: "isURL(self) && url(self).getScheme() in ['http', 'https'] && url(self).getHostname() != ''",
      holds: (text) => {
        try {
          const parsed = new URL(text);
          return (parsed.protocol === 'http:' || parsed.protocol === 'https:') && parsed.hostname !== '';
        } catch {
          return false;
        }
      },
      message: 'must be an absolute http or https URL',
    },
  ]).describe(what);

/** A key of a Secret in the QueueMigration's namespace; the operator never copies its value. */
export const secretKeyRef = (what: string): z.ZodObject<{ name: z.ZodString; key: z.ZodString }> =>
  z
    .object({
      name: objectName('Name of the Secret, in the QueueMigration’s namespace.'),
      key: z
        .string()
        .min(1)
        .max(253)
        .regex(/^[-._a-zA-Z0-9]+$/, 'must be a Secret data key')
        .describe('Key within the Secret.'),
    })
    .describe(`${what} Referenced, never copied: pods read it through secretKeyRef.`);
