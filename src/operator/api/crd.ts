import { z } from 'zod';
import type { KubernetesValidation } from './cel-rule.ts';
import {
  API_GROUP,
  API_VERSION,
  CATEGORIES,
  CRD_NAME,
  KIND,
  LIST_KIND,
  PLURAL,
  SHORT_NAMES,
  SINGULAR,
} from './names.ts';
import { queueMigrationSpec } from './spec-schema.ts';
import { queueMigrationStatus } from './status-schema.ts';
import { toStructuralSchema, type StructuralSchema } from './structural-schema.ts';

/** The fields that name what is migrated: fixed once status.startedAt is set. */
export const TARGET_FIELDS = [
  'producers',
  'consumers',
  'redis.endpoint',
  'redis.stream',
  'redis.group',
  'sqs.queueUrl',
] as const;

/**
 * Transition rules on the whole object: they see the old status, so "started" is known. Updates
 * through the main resource keep the old status and updates through /status keep the old spec, so
 * only a spec change after the start can fail them.
 */
function targetsFixedOnceStarted(): KubernetesValidation[] {
  const started = 'has(oldSelf.status) && has(oldSelf.status.startedAt)';
  return TARGET_FIELDS.map((field) => ({
    rule: `!(${started}) || self.spec.${field} == oldSelf.spec.${field}`,
    message: `spec.${field} cannot change once the migration has started (status.startedAt is set)`,
    fieldPath: `.spec.${field}`,
    reason: 'FieldValueForbidden',
  }));
}

function jsonSchemaOf(schema: z.ZodType, at: string): StructuralSchema {
  return toStructuralSchema(
    z.toJSONSchema(schema, { io: 'input', reused: 'inline', unrepresentable: 'throw' }),
    at,
  );
}

function openApiSchema(): StructuralSchema {
  return {
    type: 'object',
    description:
      'QueueMigration moves a webhook pipeline from SQS to Redis Streams, stage by stage, gated on ' +
      'evidence, and back again without losing a delivery when a gate fails.',
    required: ['spec'],
    properties: {
      apiVersion: { type: 'string', description: 'APIVersion of this representation.', maxLength: 253 },
      kind: { type: 'string', description: 'Kind of this representation.', maxLength: 63 },
      metadata: { type: 'object' },
      spec: jsonSchemaOf(queueMigrationSpec, '.spec'),
      status: jsonSchemaOf(queueMigrationStatus, '.status'),
    },
    'x-kubernetes-validations': targetsFixedOnceStarted(),
  };
}

const column = (name: string, type: string, jsonPath: string, description: string, priority = 0): object => ({
  name,
  type,
  jsonPath,
  description,
  ...(priority > 0 && { priority }),
});

/** The CustomResourceDefinition, as committed in crds/ and applied by config/crd. */
export function queueMigrationCrd(): object {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: CRD_NAME },
    spec: {
      group: API_GROUP,
      scope: 'Namespaced',
      names: {
        kind: KIND,
        listKind: LIST_KIND,
        plural: PLURAL,
        singular: SINGULAR,
        shortNames: [...SHORT_NAMES],
        categories: [...CATEGORIES],
      },
      versions: [
        {
          name: API_VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: [
            column('Stage', 'string', '.status.stage', 'Current stage.'),
            column('Phase', 'string', '.status.phase', 'Where the migration as a whole is.'),
            column('Backlog', 'integer', '.status.backlog', 'Redis backlog (lag + pending).'),
            column('Error Rate', 'string', '.status.errorRate', 'Error rate of the current stage.'),
            column('Age', 'date', '.metadata.creationTimestamp', 'Time since creation.'),
            column('Message', 'string', '.status.message', 'Latest decision.', 1),
          ],
          schema: { openAPIV3Schema: openApiSchema() },
        },
      ],
    },
  };
}

/** The committed file's text: JSON is valid YAML, so no YAML dependency is needed. */
export function renderCrd(): string {
  return `${JSON.stringify(queueMigrationCrd(), null, 2)}\n`;
}
