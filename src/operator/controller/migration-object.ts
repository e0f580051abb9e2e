import type { Owner } from '../kube/apply-configurations.ts';
import { API_GROUP_VERSION, CONTROL_ANNOTATIONS, KIND, type Control } from '../api/names.ts';
import type { ControlTokens } from '../stages/controls.ts';

/** A QueueMigration as the API server returns it. */
export interface MigrationObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace: string;
    uid: string;
    generation?: number;
    resourceVersion?: string;
    deletionTimestamp?: string;
    finalizers?: string[];
    annotations?: Record<string, string>;
  };
  spec?: unknown;
  status?: unknown;
}

export function ownerOf(migration: MigrationObject): Owner {
  return {
    apiVersion: API_GROUP_VERSION,
    kind: KIND,
    name: migration.metadata.name,
    uid: migration.metadata.uid,
  };
}

export function tokensOf(migration: MigrationObject): ControlTokens {
  const annotations = migration.metadata.annotations ?? {};
  const tokens: ControlTokens = {};
  for (const control of Object.keys(CONTROL_ANNOTATIONS) as Control[]) {
    const value = annotations[CONTROL_ANNOTATIONS[control]];
    if (value !== undefined) tokens[control] = value;
  }
  return tokens;
}

export function keyOf(object: { metadata?: { namespace?: string; name?: string } }): string {
  return `${object.metadata?.namespace ?? ''}/${object.metadata?.name ?? ''}`;
}
