import { z } from 'zod';
import { labelName, objectName } from './fields.ts';

/** A Deployment whose named container runs the queue adapter. */
export const deploymentTarget = z
  .object({
    name: objectName('Name of the Deployment, in the QueueMigration’s namespace.'),
    container: labelName('Container of the Deployment that runs the queue adapter.'),
  })
  .describe('A Deployment and the container whose queue settings the operator manages.');

export type DeploymentTarget = z.output<typeof deploymentTarget>;

export const MAX_TARGETS = 10;

/**
 * One to MAX_TARGETS Deployments, each named once. The API server checks uniqueness through the
 * list-map key; the operator through the refinement.
 */
export const deploymentTargets = (what: string): z.ZodArray<typeof deploymentTarget> =>
  z
    .array(deploymentTarget)
    .min(1)
    .max(MAX_TARGETS)
    .refine((list) => new Set(list.map((t) => t.name)).size === list.length, {
      message: 'each Deployment may be listed once',
    })
    .meta({
      description: what,
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['name'],
    });
