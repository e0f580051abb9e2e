import { API_GROUP_VERSION, PLURAL } from '../api/names.ts';

/** REST paths of what the operator reads and writes; `namespace` undefined = every namespace. */
const scoped = (prefix: string, namespace: string | undefined, plural: string): string =>
  namespace === undefined ? `${prefix}/${plural}` : `${prefix}/namespaces/${namespace}/${plural}`;

export const paths = {
  migrations: (namespace?: string): string => scoped(`/apis/${API_GROUP_VERSION}`, namespace, PLURAL),
  migration: (namespace: string, name: string): string => `${paths.migrations(namespace)}/${name}`,
  migrationStatus: (namespace: string, name: string): string => `${paths.migration(namespace, name)}/status`,
  deployments: (namespace?: string): string => scoped('/apis/apps/v1', namespace, 'deployments'),
  deployment: (namespace: string, name: string): string => `${paths.deployments(namespace)}/${name}`,
  pods: (namespace: string): string => scoped('/api/v1', namespace, 'pods'),
  replicaSets: (namespace: string): string => scoped('/apis/apps/v1', namespace, 'replicasets'),
  events: (namespace: string): string => scoped('/api/v1', namespace, 'events'),
  lease: (namespace: string, name: string): string =>
    `${scoped('/apis/coordination.k8s.io/v1', namespace, 'leases')}/${name}`,
  leases: (namespace: string): string => scoped('/apis/coordination.k8s.io/v1', namespace, 'leases'),
};

/** The operator's field manager: server-side apply attributes its fields to this name. */
export const FIELD_MANAGER = 'queueshift-operator';
export const FINALIZER = 'queueshift.dev/rollback';
/** On canary Deployments and their pods: the producer they copy. */
export const CANARY_LABEL = 'queueshift.dev/canary-of';
