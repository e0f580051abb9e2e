import type { V1Container, V1EnvVar, V1Pod } from '@kubernetes/client-node';
import { expand } from './expand.ts';
import { LOOPBACK } from '../ports.ts';

/** Decoded `data` of the Secrets and ConfigMaps a container refers to; `undefined` = not found. */
export interface ConfigSources {
  secrets: ReadonlyMap<string, Readonly<Record<string, string>> | undefined>;
  configMaps: ReadonlyMap<string, Readonly<Record<string, string>> | undefined>;
}

export interface SourceNames {
  secrets: Set<string>;
  configMaps: Set<string>;
}

export type EnvResolution =
  | { ok: true; env: Record<string, string> }
  | { ok: false; reason: 'CreateContainerConfigError'; message: string };

/** Thrown inside the resolver; turned into a CreateContainerConfigError result. */
class ConfigError extends Error {}

/** The Secrets and ConfigMaps that `resolveContainerEnv` will look up for this container. */
export function referencedSources(container: V1Container): SourceNames {
  const names: SourceNames = { secrets: new Set(), configMaps: new Set() };
  for (const from of container.envFrom ?? []) {
    if (from.secretRef?.name) names.secrets.add(from.secretRef.name);
    if (from.configMapRef?.name) names.configMaps.add(from.configMapRef.name);
  }
  for (const variable of container.env ?? []) {
    const secret = variable.valueFrom?.secretKeyRef?.name;
    const configMap = variable.valueFrom?.configMapKeyRef?.name;
    if (secret) names.secrets.add(secret);
    if (configMap) names.configMaps.add(configMap);
  }
  return names;
}

/**
 * The value of a downward-API field path (the subset the kubelet supports for env). The pod's
 * IPs are always the loopback address: every pod of the local node runs on this host.
 */
export function fieldPathValue(pod: V1Pod, fieldPath: string): string {
  const meta = pod.metadata ?? {};
  const mapKey = /^metadata\.(labels|annotations)\['(.*)'\]$/.exec(fieldPath);
  if (mapKey) {
    const map = mapKey[1] === 'labels' ? meta.labels : meta.annotations;
    return map?.[mapKey[2] ?? ''] ?? '';
  }
  switch (fieldPath) {
    case 'metadata.name':
      return meta.name ?? '';
    case 'metadata.namespace':
      return meta.namespace ?? '';
    case 'metadata.uid':
      return meta.uid ?? '';
    case 'spec.nodeName':
      return pod.spec?.nodeName ?? '';
    case 'spec.serviceAccountName':
      return pod.spec?.serviceAccountName ?? '';
    case 'status.podIP':
    case 'status.podIPs':
    case 'status.hostIP':
    case 'status.hostIPs':
      return LOOPBACK;
    default:
      throw new ConfigError(`unsupported fieldPath: ${fieldPath}`);
  }
}

function lookupKey(
  kind: 'Secret' | 'ConfigMap',
  data: Readonly<Record<string, string>> | undefined,
  namespace: string,
  name: string,
  key: string,
  optional: boolean,
): string | undefined {
  if (data === undefined) {
    if (optional) return undefined;
    throw new ConfigError(`${kind === 'Secret' ? 'secret' : 'configmap'} "${name}" not found`);
  }
  const value = data[key];
  if (value === undefined && !optional) {
    throw new ConfigError(`couldn't find key ${key} in ${kind} ${namespace}/${name}`);
  }
  return value;
}

function variableValue(
  pod: V1Pod,
  variable: V1EnvVar,
  sources: ConfigSources,
  lookup: (name: string) => string | undefined,
): string | undefined {
  const namespace = pod.metadata?.namespace ?? '';
  if (variable.value !== undefined && variable.value !== '') return expand(variable.value, lookup);
  const from = variable.valueFrom;
  if (!from) return '';
  if (from.fieldRef) return fieldPathValue(pod, from.fieldRef.fieldPath);
  if (from.secretKeyRef) {
    const ref = from.secretKeyRef;
    const name = ref.name ?? '';
    return lookupKey('Secret', sources.secrets.get(name), namespace, name, ref.key, ref.optional === true);
  }
  if (from.configMapKeyRef) {
    const ref = from.configMapKeyRef;
    const name = ref.name ?? '';
    return lookupKey(
      'ConfigMap',
      sources.configMaps.get(name),
      namespace,
      name,
      ref.key,
      ref.optional === true,
    );
  }
  throw new ConfigError(
    `env ${variable.name}: only value, fieldRef, secretKeyRef and configMapKeyRef are supported`,
  );
}

/**
 * The container's own environment, resolved the way the kubelet does it: `envFrom` sources first
 * (later sources override earlier ones, each key with its prefix), then `env` in order, where a
 * literal value may refer to anything defined before it (and to `extra`, e.g. the
 * KUBERNETES_SERVICE_* variables) as `$(NAME)`. A required reference that cannot be resolved makes
 * the whole resolution fail with the kubelet's CreateContainerConfigError message; an optional
 * one leaves its variable out.
 */
export function resolveContainerEnv(
  pod: V1Pod,
  container: V1Container,
  sources: ConfigSources,
  extra: Readonly<Record<string, string>> = {},
): EnvResolution {
  const env: Record<string, string> = {};
  const lookup = (name: string): string | undefined =>
    Object.hasOwn(env, name) ? env[name] : Object.hasOwn(extra, name) ? extra[name] : undefined;
  try {
    for (const from of container.envFrom ?? []) {
      const prefix = from.prefix ?? '';
      let data: Readonly<Record<string, string>> | undefined;
      if (from.secretRef) {
        const name = from.secretRef.name ?? '';
        data = sources.secrets.get(name);
        if (data === undefined && from.secretRef.optional !== true)
          throw new ConfigError(`secret "${name}" not found`);
      } else if (from.configMapRef) {
        const name = from.configMapRef.name ?? '';
        data = sources.configMaps.get(name);
        if (data === undefined && from.configMapRef.optional !== true) {
          throw new ConfigError(`configmap "${name}" not found`);
        }
      }
      for (const [key, value] of Object.entries(data ?? {})) {
        const name = prefix + key;
        if (name !== '' && !name.includes('=')) env[name] = value;
      }
    }
    for (const variable of container.env ?? []) {
      const value = variableValue(pod, variable, sources, lookup);
      if (value !== undefined) env[variable.name] = value;
    }
  } catch (error) {
    if (error instanceof ConfigError) {
      return { ok: false, reason: 'CreateContainerConfigError', message: error.message };
    }
    throw error;
  }
  return { ok: true, env };
}

/** Expands `$(NAME)` in a command or its arguments with the container's resolved environment. */
export function expandAll(values: readonly string[], env: Readonly<Record<string, string>>): string[] {
  return values.map((value) => expand(value, (name) => (Object.hasOwn(env, name) ? env[name] : undefined)));
}
