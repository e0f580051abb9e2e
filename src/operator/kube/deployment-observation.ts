import type {
  V1Deployment,
  V1EnvFromSource,
  V1EnvVar,
  V1ManagedFieldsEntry,
  V1Pod,
} from '@kubernetes/client-node';
import type { DeploymentObservation, EnvEntry, EnvFromSource } from '../stages/observations.ts';

function envEntry(variable: V1EnvVar): EnvEntry {
  const from = variable.valueFrom;
  if (from === undefined) return { name: variable.name, value: variable.value ?? '' };
  return {
    name: variable.name,
    valueFrom: {
      ...(from.secretKeyRef && {
        secretKeyRef: { name: from.secretKeyRef.name ?? '', key: from.secretKeyRef.key },
      }),
      ...(from.configMapKeyRef && {
        configMapKeyRef: { name: from.configMapKeyRef.name ?? '', key: from.configMapKeyRef.key },
      }),
      ...(from.fieldRef && { fieldRef: { fieldPath: from.fieldRef.fieldPath } }),
    },
  };
}

/** The ConfigMap or Secret an `envFrom` entry names (the API server requires exactly one). */
function envFromSource(source: V1EnvFromSource): EnvFromSource[] {
  const prefix = source.prefix === undefined || source.prefix === '' ? {} : { prefix: source.prefix };
  if (source.configMapRef !== undefined) {
    return [{ kind: 'ConfigMap', name: source.configMapRef.name ?? '', ...prefix }];
  }
  if (source.secretRef !== undefined) {
    return [{ kind: 'Secret', name: source.secretRef.name ?? '', ...prefix }];
  }
  return [];
}

type Fields = Readonly<Record<string, unknown>>;

function child(fields: Fields | undefined, key: string): Fields | undefined {
  const value = fields?.[key];
  return typeof value === 'object' && value !== null ? (value as Fields) : undefined;
}

/** Which part of an env variable a manager owns: its literal value or its reference. */
const VALUE_FIELDS = ['f:value', 'f:valueFrom'] as const;

/** `QUEUE_TYPE f:value`: the variables of the container whose value (or reference) this entry owns. */
function ownedValues(entry: V1ManagedFieldsEntry, container: string): { variable: string; field: string }[] {
  const containers = child(
    child(child(child(entry.fieldsV1 as Fields | undefined, 'f:spec'), 'f:template'), 'f:spec'),
    'f:containers',
  );
  const env = child(child(containers, `k:${JSON.stringify({ name: container })}`), 'f:env');
  return Object.keys(env ?? {}).flatMap((key) => {
    if (!key.startsWith('k:')) return [];
    const name = (JSON.parse(key.slice(2)) as { name?: unknown }).name;
    if (typeof name !== 'string') return [];
    const owned = child(env, key);
    return VALUE_FIELDS.filter((field) => owned?.[field] !== undefined).map((field) => ({
      variable: name,
      field,
    }));
  });
}

/**
 * Managed variables owned by other field managers, once the operator has applied to this
 * Deployment; before that every field belongs to someone else and none is a conflict. A value the
 * operator still co-owns is not a conflict: the API server keeps two owners of a field only while
 * both set the same value, and strips the operator from it as soon as another manager changes it.
 * (Between a transition written to status and its patch, the creator and the operator co-own the
 * previous stage's value; a restart in that window must apply the patch, not pause.)
 */
function foreignFields(
  deployment: V1Deployment,
  container: string,
  fieldManager: string,
  managed: ReadonlySet<string>,
): { variable: string; manager: string }[] {
  const entries = deployment.metadata?.managedFields ?? [];
  const mine = entries.filter((entry) => entry.manager === fieldManager && entry.operation === 'Apply');
  if (mine.length === 0) return [];
  const coOwned = new Set(
    mine.flatMap((entry) => ownedValues(entry, container)).map((o) => `${o.variable} ${o.field}`),
  );
  return entries
    .filter((entry) => entry.manager !== fieldManager)
    .flatMap((entry) =>
      ownedValues(entry, container)
        .filter((o) => managed.has(o.variable) && !coOwned.has(`${o.variable} ${o.field}`))
        .map((o) => ({ variable: o.variable, manager: entry.manager ?? 'unknown' })),
    );
}

function crashLooping(pods: readonly V1Pod[]): string[] {
  return pods
    .filter((pod) =>
      (pod.status?.containerStatuses ?? []).some(
        (status) => status.state?.waiting?.reason === 'CrashLoopBackOff',
      ),
    )
    .map((pod) => pod.metadata?.name ?? '');
}

export interface ObserveOptions {
  container: string;
  /**
   * Pods of the Deployment's current template (currentTemplatePods), when its rollout is not
   * complete: crash loops show only there, and older templates' pods are being replaced.
   */
  pods: readonly V1Pod[];
  fieldManager: string;
  managedVariables: readonly string[];
}

/** What the stage machine needs to know about a Deployment, from the object the API server returned. */
export function observeDeployment(deployment: V1Deployment, options: ObserveOptions): DeploymentObservation {
  const status = deployment.status;
  const spec = deployment.spec?.template.spec;
  const container = spec?.containers.find((c) => c.name === options.container);
  return {
    name: deployment.metadata?.name ?? '',
    replicas: deployment.spec?.replicas ?? 1,
    generation: deployment.metadata?.generation ?? 0,
    observedGeneration: status?.observedGeneration ?? 0,
    updatedReplicas: status?.updatedReplicas ?? 0,
    availableReplicas: status?.availableReplicas ?? 0,
    totalReplicas: status?.replicas ?? 0,
    progressDeadlineExceeded: (status?.conditions ?? []).some(
      (c) => c.type === 'Progressing' && c.status === 'False' && c.reason === 'ProgressDeadlineExceeded',
    ),
    crashLoopingPods: crashLooping(options.pods),
    ...(container !== undefined && {
      container: {
        env: (container.env ?? []).map(envEntry),
        volumeMounts: (container.volumeMounts ?? []).map((m) => ({ name: m.name, mountPath: m.mountPath })),
        ...(container.envFrom !== undefined &&
          container.envFrom.length > 0 && { envFrom: container.envFrom.flatMap(envFromSource) }),
      },
    }),
    volumes: (spec?.volumes ?? []).map((v) => v.name),
    foreignFields: foreignFields(
      deployment,
      options.container,
      options.fieldManager,
      new Set(options.managedVariables),
    ),
  };
}

/** `app=web,tier=front`: the Deployment's matchLabels as a label selector. */
export function labelSelector(deployment: V1Deployment): string {
  return Object.entries(deployment.spec?.selector.matchLabels ?? {})
    .map(([key, value]) => `${key}=${value}`)
    .join(',');
}
