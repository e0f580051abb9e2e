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

/**
 * The SQS queue settings, which cleanup removes. AWS_REGION and AWS_ENDPOINT_URL are not among
 * them: handlers may use AWS for other things, so they stay as the user set them.
 */
const SQS_VARIABLES: readonly string[] = [
  'SQS_QUEUE_URL',
  'SQS_DLQ_URL',
  'SQS_WAIT_TIME_SECONDS',
  'SQS_VISIBILITY_TIMEOUT_SECONDS',
];

const QUEUE_VARIABLES = [
  'QUEUE_TYPE',
  'QUEUE_FALLBACK_TYPE',
  ...CONNECTION_SUFFIXES.map((suffix) => `REDIS_${suffix}`),
  'REDIS_STREAM_NAME',
  'REDIS_CONSUMER_GROUP',
  'REDIS_MAX_LEN',
  ...SQS_VARIABLES,
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

/**
 * The SQS settings as recorded, carried while any mode may still use SQS. Applying the user's own
 * value changes no pod template; it makes the operator a co-owner of the field (the API server
 * keeps two owners while both set the same value), which is what lets the operator later take it
 * over without that looking like a conflict: between the transition to `redis` and its patch, the
 * field is still the operator's as much as the user's (see foreignFields in
 * kube/deployment-observation.ts). A migration recorded before the operator managed these has
 * none of them here, and they are left as they are.
 */
function recordedSqsSettings(original: OriginalSettings): EnvEntry[] {
  return original.env.filter((entry) => SQS_VARIABLES.includes(entry.name)).map(normalised);
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
 * cannot remove a field another manager owns. That is how cleanup removes the SQS settings: in
 * `redis` mode they are no longer carried, so a forced apply sets each recorded one to an empty
 * value, taking the value over from the user's manager. The entry keeps its name, since that
 * manager still owns the list item; a rollback applies the recorded values again.
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
    ...(mode === 'redis' ? [] : recordedSqsSettings(original)),
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

/**
 * What a managed variable must read under `settings`: its entry there, else an empty value. An SQS
 * variable the settings do not name has no expected value: it was never recorded, so the operator
 * neither set it nor removes it.
 */
function expectedEntry(settings: ContainerSettings, name: string): EnvEntry | undefined {
  const entry = settings.env.find((e) => e.name === name);
  if (entry !== undefined) return normalised(entry);
  return SQS_VARIABLES.includes(name) ? undefined : literal(name, '');
}

function observedEntry(container: ContainerObservation | undefined, name: string): EnvEntry {
  return normalised(container?.env.find((entry) => entry.name === name) ?? literal(name, ''));
}

/** Whether the Deployment's container carries the settings (and none of the managed ones it must not). */
export function settingsApplied(
  deployment: DeploymentObservation,
  role: Role,
  settings: ContainerSettings,
): boolean {
  const container = deployment.container;
  if (container === undefined) return false;
  const names = new Set([...settings.env.map((entry) => entry.name), ...managedVariables(role)]);
  const envMatches = [...names].every((name) => {
    const expected = expectedEntry(settings, name);
    return expected === undefined || isDeepStrictEqual(observedEntry(container, name), expected);
  });
  const mounted = container.volumeMounts.some(
    (m) => m.name === TLS_VOLUME && m.mountPath === settings.tlsVolume?.mountPath,
  );
  const volumeMatches =
    settings.tlsVolume === undefined
      ? !deployment.volumes.includes(TLS_VOLUME)
      : deployment.volumes.includes(TLS_VOLUME) && mounted;
  return envMatches && volumeMatches;
}

/**
 * Managed variables that another field manager took over and set to something other than what the
 * operator wants: a GitOps tool reverting them, say. The operator pauses rather than fight it.
 */
export function foreignChanges(
  deployment: DeploymentObservation,
  settings: ContainerSettings,
): { variable: string; manager: string }[] {
  return deployment.foreignFields.filter(({ variable }) => {
    const expected = expectedEntry(settings, variable);
    return (
      expected !== undefined && !isDeepStrictEqual(observedEntry(deployment.container, variable), expected)
    );
  });
}
