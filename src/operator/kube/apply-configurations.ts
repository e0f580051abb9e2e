import type { V1Container, V1Deployment, V1EnvVar, V1EnvVarSource } from '@kubernetes/client-node';
import type { ContainerSettings } from '../stages/actions.ts';
import { TLS_VOLUME } from '../stages/container-settings.ts';
import type { EnvEntry } from '../stages/observations.ts';
import { CANARY_LABEL } from './resource-paths.ts';

function envVar(entry: EnvEntry): V1EnvVar {
  const from = entry.valueFrom;
  if (from === undefined) return { name: entry.name, value: entry.value ?? '' };
  const valueFrom: V1EnvVarSource = {};
  if (from.secretKeyRef) valueFrom.secretKeyRef = from.secretKeyRef;
  if (from.configMapKeyRef) valueFrom.configMapKeyRef = from.configMapKeyRef;
  if (from.fieldRef) valueFrom.fieldRef = from.fieldRef;
  return { name: entry.name, valueFrom };
}

function tlsMount(settings: ContainerSettings): Pick<V1Container, 'volumeMounts'> {
  const tls = settings.tlsVolume;
  return tls === undefined
    ? {}
    : { volumeMounts: [{ name: TLS_VOLUME, mountPath: tls.mountPath, readOnly: true }] };
}

function tlsVolumes(settings: ContainerSettings): { volumes?: object[] } {
  const tls = settings.tlsVolume;
  return tls === undefined ? {} : { volumes: [{ name: TLS_VOLUME, secret: { secretName: tls.secretName } }] };
}

/**
 * The operator's part of a Deployment, for server-side apply: the managed variables of one
 * container and the TLS volume. Fields the operator applied before and leaves out now are removed
 * by the API server; fields of other managers are untouched.
 */
export function settingsApplyConfiguration(
  namespace: string,
  deployment: string,
  container: string,
  settings: ContainerSettings,
): object {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: deployment, namespace },
    spec: {
      template: {
        spec: {
          containers: [{ name: container, env: settings.env.map(envVar), ...tlsMount(settings) }],
          ...tlsVolumes(settings),
        },
      },
    },
  };
}

export interface Owner {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
}

export interface CanaryRequest {
  name: string;
  container: string;
  replicas: number;
  settings: ContainerSettings;
}

/**
 * A canary: a copy of the producer whose pods carry the producer's labels (so its Service sends
 * them their share of requests) plus CANARY_LABEL, which keeps the two Deployments' pods apart.
 * Owned by the QueueMigration, so that deleting it deletes its canaries.
 */
export function canaryApplyConfiguration(
  producer: V1Deployment,
  canary: CanaryRequest,
  owner: Owner,
): object {
  const producerName = producer.metadata?.name ?? '';
  const template = producer.spec?.template;
  const podSpec = template?.spec;
  const replaced = new Set(canary.settings.env.map((e) => e.name));
  const containers = (podSpec?.containers ?? []).map((original) => {
    const container = structuredClone(original);
    if (container.name !== canary.container) return container;
    container.env = [
      ...(container.env ?? []).filter((e) => !replaced.has(e.name)),
      ...canary.settings.env.map(envVar),
    ];
    container.volumeMounts = [
      ...(container.volumeMounts ?? []).filter((m) => m.name !== TLS_VOLUME),
      ...(tlsMount(canary.settings).volumeMounts ?? []),
    ];
    return container;
  });
  const spec = structuredClone(podSpec) ?? { containers: [] };
  spec.containers = containers;
  const volumes = [
    ...(spec.volumes ?? []).filter((v) => v.name !== TLS_VOLUME),
    ...(tlsVolumes(canary.settings).volumes ?? []),
  ];
  if (volumes.length > 0) spec.volumes = volumes as NonNullable<typeof spec.volumes>;
  const selector = producer.spec?.selector;
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: canary.name,
      namespace: producer.metadata?.namespace,
      labels: { ...producer.metadata?.labels, [CANARY_LABEL]: producerName },
      ownerReferences: [{ ...owner, controller: true, blockOwnerDeletion: false }],
    },
    spec: {
      replicas: canary.replicas,
      selector: {
        matchLabels: { ...selector?.matchLabels, [CANARY_LABEL]: producerName },
        ...(selector?.matchExpressions !== undefined && { matchExpressions: selector.matchExpressions }),
      },
      ...(producer.spec?.strategy !== undefined && { strategy: producer.spec.strategy }),
      ...(producer.spec?.minReadySeconds !== undefined && { minReadySeconds: producer.spec.minReadySeconds }),
      ...(producer.spec?.progressDeadlineSeconds !== undefined && {
        progressDeadlineSeconds: producer.spec.progressDeadlineSeconds,
      }),
      template: {
        metadata: {
          labels: { ...template?.metadata?.labels, [CANARY_LABEL]: producerName },
          ...(template?.metadata?.annotations !== undefined && {
            annotations: template.metadata.annotations,
          }),
        },
        spec,
      },
    },
  };
}
