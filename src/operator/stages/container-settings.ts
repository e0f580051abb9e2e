import { isDeepStrictEqual } from 'node:util';
import type { QueueMigrationSpec } from '../api/spec-schema.ts';
import type { OriginalSettings } from '../api/status-schema.ts';
import type { ContainerSettings, Role } from './actions.ts';
import type { ContainerObservation, DeploymentObservation, EnvEntry } from './observations.ts';

/** How a Deployment's container is configured at a point of the migration. */
export type ProducerMode = 'original' | 'sqs-with-redis-fallback' | 'redis-with-sqs-fallback' | 'redis';
export type ConsumerMode = 'original' | 'dual' | 'redis';
export type Mode = ProducerMode | ConsumerMode;

export const TLS_VOLUME = 'queueshift-redis-tls';

/** Suffixes of a Redis connection, under `REDIS_` and `IDEMPOTENCY_REDIS_`. */
const CONNECTION_SUFFIXES = [
  'ADDRESS',
  'USERNAME',
  'PASSWORD',
  'TLS_ENABLED',
  'TLS_CA_FILE',
  'TLS_CERT_FILE',
  'TLS_KEY_FILE',
  'SENTINEL_ENABLED',
  'SENTINEL_MASTER_NAME',
  'SENTINEL_ADDRESSES',
] as const;

const QUEUE_VARIABLES = [
  'QUEUE_TYPE',
  'QUEUE_FALLBACK_TYPE',
  ...CONNECTION_SUFFIXES.map((suffix) => `REDIS_${suffix}`),
  'REDIS_STREAM_NAME',
  'REDIS_CONSUMER_GROUP',
  'REDIS_MAX_LEN',
];

const IDEMPOTENCY_VARIABLES = CONNECTION_SUFFIXES.map((suffix) => `IDEMPOTENCY_REDIS_${suffix}`);

/** The variables the operator may set on a container of this role, recorded before any change. */
export function managedVariables(role: Role): readonly string[] {
  return role === 'producer' ? QUEUE_VARIABLES : [...QUEUE_VARIABLES, ...IDEMPOTENCY_VARIABLES];
}

/** The entry as the API server normalises it, so that a comparison sees only what matters. */
function normalised(entry: EnvEntry): EnvEntry {
  const from = entry.valueFrom;
  if (from === undefined) return { name: entry.name, value: entry.value ?? '' };
  return {
    name: entry.name,
    valueFrom: {
      ...(from.secretKeyRef && {
        secretKeyRef: { name: from.secretKeyRef.name, key: from.secretKeyRef.key },
      }),
      ...(from.configMapKeyRef && {
        configMapKeyRef: { name: from.configMapKeyRef.name, key: from.configMapKeyRef.key },
      }),
      ...(from.fieldRef && { fieldRef: { fieldPath: from.fieldRef.fieldPath } }),
    },
  };
}

/** The managed part of a container's env, as recorded in status.originals. */
export function recordOriginal(
  target: { name: string; container: string },
  role: Role,
  container: ContainerObservation,
): OriginalSettings {
  const managed = new Set(managedVariables(role));
  return {
    deployment: target.name,
    container: target.container,
    role,
    env: container.env.filter((entry) => managed.has(entry.name)).map(normalised),
  };
}

const literal = (name: string, value: string): EnvEntry => ({ name, value });

function redisVariables(spec: QueueMigrationSpec): EnvEntry[] {
  const { redis } = spec;
  const endpoint: EnvEntry[] =
    redis.endpoint.mode === 'standalone'
      ? [literal('REDIS_ADDRESS', redis.endpoint.address)]
      : [
          literal('REDIS_SENTINEL_ENABLED', 'true'),
          literal('REDIS_SENTINEL_MASTER_NAME', redis.endpoint.masterName),
          literal('REDIS_SENTINEL_ADDRESSES', redis.endpoint.sentinels.join(',')),
        ];
  const tls = redis.tls;
  return [
    ...endpoint,
    ...(redis.username === undefined ? [] : [literal('REDIS_USERNAME', redis.username)]),
    ...(redis.passwordSecretRef === undefined
      ? []
      : [{ name: 'REDIS_PASSWORD', valueFrom: { secretKeyRef: { ...redis.passwordSecretRef } } }]),
    ...(tls === undefined
      ? []
      : [
          literal('REDIS_TLS_ENABLED', 'true'),
          literal('REDIS_TLS_CA_FILE', `${tls.mountPath}/${tls.caKey}`),
          ...(tls.certKey === undefined
            ? []
            : [literal('REDIS_TLS_CERT_FILE', `${tls.mountPath}/${tls.certKey}`)]),
          ...(tls.keyKey === undefined
            ? []
            : [literal('REDIS_TLS_KEY_FILE', `${tls.mountPath}/${tls.keyKey}`)]),
        ]),
    literal('REDIS_STREAM_NAME', redis.stream),
    literal('REDIS_CONSUMER_GROUP', redis.group),
    ...(redis.maxLen === undefined ? [] : [literal('REDIS_MAX_LEN', String(redis.maxLen))]),
  ];
}

/**
 * The idempotency store is the system's own setting and stays where it was through every stage:
 * done marks written before a switch must still be found after it. A consumer with a store of its
 * own keeps those variables as recorded (blanking them would send it to the stream Redis); one
 * whose store came through REDIS_* (the adapter falls back to it when IDEMPOTENCY_REDIS_* is not
 * set) would follow REDIS_* to the stream Redis once the operator sets it, so it is pinned to the
 * recorded REDIS_* connection under the IDEMPOTENCY_ names.
 */
function pinnedIdempotencyStore(original: OriginalSettings): EnvEntry[] {
  const connection = (prefix: string): EnvEntry[] =>
    original.env.filter((entry) => CONNECTION_SUFFIXES.some((suffix) => entry.name === `${prefix}${suffix}`));
  const ownStore = connection('IDEMPOTENCY_REDIS_');
  if (ownStore.length > 0) return ownStore.map(normalised);
  return connection('REDIS_').map((entry) => ({ ...normalised(entry), name: `IDEMPOTENCY_${entry.name}` }));
}

function queueVariables(mode: Exclude<Mode, 'original'>): EnvEntry[] {
  switch (mode) {
    case 'sqs-with-redis-fallback':
      return [literal('QUEUE_TYPE', 'sqs'), literal('QUEUE_FALLBACK_TYPE', 'redis')];
    case 'redis-with-sqs-fallback':
      return [literal('QUEUE_TYPE', 'redis'), literal('QUEUE_FALLBACK_TYPE', 'sqs')];
    case 'dual':
      return [literal('QUEUE_TYPE', 'dual')];
    case 'redis':
      return [literal('QUEUE_TYPE', 'redis')];
  }
}

/**
 * The operator's fields of a container in a mode. `original` is exactly what was recorded. Other
 * modes set the queue and Redis variables; a variable the container had before and the mode does
 * not use is set to an empty value (which the adapter reads as unset), because server-side apply
 * cannot remove a field another manager owns.
 */
export function desiredSettings(
  spec: QueueMigrationSpec,
  original: OriginalSettings,
  mode: Mode,
): ContainerSettings {
  if (mode === 'original') return { env: original.env.map(normalised) };
  const wanted = [
    ...queueVariables(mode),
    ...redisVariables(spec),
    ...(original.role === 'consumer' ? pinnedIdempotencyStore(original) : []),
  ];
  const blanked = original.env
    .filter((entry) => !wanted.some((w) => w.name === entry.name))
    .map((entry) => literal(entry.name, ''));
  const tls = spec.redis.tls;
  return {
    env: [...wanted, ...blanked],
    ...(tls !== undefined && { tlsVolume: { secretName: tls.secretName, mountPath: tls.mountPath } }),
  };
}

/** Whether the Deployment's container carries the settings (and none of the managed ones it must not). */
export function settingsApplied(
  deployment: DeploymentObservation,
  role: Role,
  settings: ContainerSettings,
): boolean {
  const container = deployment.container;
  if (container === undefined) return false;
  const observed = new Map(container.env.map((entry) => [entry.name, normalised(entry)]));
  const envMatches = settings.env.every((entry) => {
    const seen = observed.get(entry.name);
    return isDeepStrictEqual(seen ?? literal(entry.name, ''), normalised(entry));
  });
  const wanted = new Set(settings.env.map((entry) => entry.name));
  const noStrays = managedVariables(role).every(
    (name) =>
      wanted.has(name) || isDeepStrictEqual(observed.get(name) ?? literal(name, ''), literal(name, '')),
  );
  const mounted = container.volumeMounts.some(
    (m) => m.name === TLS_VOLUME && m.mountPath === settings.tlsVolume?.mountPath,
  );
  const volumeMatches =
    settings.tlsVolume === undefined
      ? !deployment.volumes.includes(TLS_VOLUME)
      : deployment.volumes.includes(TLS_VOLUME) && mounted;
  return envMatches && noStrays && volumeMatches;
}

/**
 * Managed variables that another field manager took over and set to something other than what the
 * operator wants: a GitOps tool reverting them, say. The operator pauses rather than fight it.
 */
export function foreignChanges(
  deployment: DeploymentObservation,
  settings: ContainerSettings,
): { variable: string; manager: string }[] {
  const want = (name: string): EnvEntry =>
    normalised(settings.env.find((entry) => entry.name === name) ?? literal(name, ''));
  const seen = (name: string): EnvEntry =>
    normalised(deployment.container?.env.find((entry) => entry.name === name) ?? literal(name, ''));
  return deployment.foreignFields.filter(
    ({ variable }) => !isDeepStrictEqual(seen(variable), want(variable)),
  );
}
