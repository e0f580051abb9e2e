import { z } from 'zod';
import { withRules } from './cel-rule.ts';
import { hostPort, objectName, secretKeyRef } from './fields.ts';

// Strict branches: a field of the other mode is an error, as the CRD's generated rules make it.
const standalone = z.strictObject({
  mode: z.literal('standalone').describe('One Redis server at `address`.'),
  address: hostPort('Redis server as host:port (REDIS_ADDRESS).'),
});

const sentinel = z.strictObject({
  mode: z.literal('sentinel').describe('A Sentinel-monitored primary, found through `sentinels`.'),
  masterName: z
    .string()
    .min(1)
    .max(200)
    .regex(/^[^\s]+$/, 'must not contain spaces')
    .describe('Name of the monitored primary (REDIS_SENTINEL_MASTER_NAME).'),
  sentinels: z
    .array(hostPort('A Sentinel as host:port.'))
    .min(1)
    .max(9)
    .describe('Sentinels as host:port (REDIS_SENTINEL_ADDRESSES).'),
});

export const redisEndpoint = z
  .discriminatedUnion('mode', [standalone, sentinel])
  .describe('Where the stream Redis is: `standalone` with an address, or `sentinel`.');

const tls = withRules(
  z.object({
    secretName: objectName(
      'Secret holding the PEM files; mounted read-only into the containers as a volume.',
    ),
    mountPath: z
      .string()
      .max(200)
      .regex(/^\/[^:]*$/, 'must be an absolute path without ":"')
      .default('/etc/queueshift/redis-tls')
      .describe('Where the Secret is mounted in the containers.'),
    caKey: z
      .string()
      .max(253)
      .default('ca.crt')
      .describe('Key of the CA bundle in the Secret (REDIS_TLS_CA_FILE).'),
    certKey: z
      .string()
      .min(1)
      .max(253)
      .optional()
      .describe('Key of the client certificate, for servers that require one (REDIS_TLS_CERT_FILE).'),
    keyKey: z
      .string()
      .min(1)
      .max(253)
      .optional()
      .describe('Key of the client private key (REDIS_TLS_KEY_FILE); set with certKey.'),
  }),
  [
    {
      cel: 'has(self.certKey) == has(self.keyKey)',
      holds: (value) => (value.certKey === undefined) === (value.keyKey === undefined),
      message: 'certKey and keyKey go together: a client certificate needs its key',
      fieldPath: '.keyKey',
      reason: 'FieldValueRequired',
    },
  ],
).describe('TLS to Redis; the server certificate is always verified.');

const streamName = (what: string, fallback: string): z.ZodDefault<z.ZodString> =>
  z
    .string()
    .min(1)
    .max(200)
    .regex(/^[^\s]+$/, 'must not contain spaces')
    .default(fallback)
    .describe(what);

export const redisSettings = z
  .object({
    endpoint: redisEndpoint,
    username: z
      .string()
      .min(1)
      .max(200)
      .regex(/^[^\s]+$/, 'must not contain spaces')
      .optional()
      .describe('ACL user (REDIS_USERNAME).'),
    passwordSecretRef: secretKeyRef('Password of the ACL user (REDIS_PASSWORD).').optional(),
    tls: tls.optional(),
    stream: streamName('Stream the producers publish to (REDIS_STREAM_NAME).', 'github-webhooks'),
    group: streamName('Consumer group of the workers (REDIS_CONSUMER_GROUP).', 'webhook-workers'),
    maxLen: z
      .number()
      .int()
      .min(1)
      .max(Number.MAX_SAFE_INTEGER)
      .optional()
      .describe('Alerting cap on the stream length (REDIS_MAX_LEN); producers never drop work for it.'),
  })
  .describe('The stream Redis the pipeline moves to. Secrets by reference only.');

export type RedisSettings = z.output<typeof redisSettings>;
export type RedisEndpointSettings = z.output<typeof redisEndpoint>;
