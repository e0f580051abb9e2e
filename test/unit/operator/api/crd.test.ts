import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { queueMigrationCrd, renderCrd, TARGET_FIELDS } from '../../../../src/operator/api/crd.ts';
import type { StructuralSchema } from '../../../../src/operator/api/structural-schema.ts';

const CRD_FILE = path.join(import.meta.dirname, '../../../../crds/queueshift.dev_queuemigrations.yaml');

interface Version {
  name: string;
  subresources: object;
  additionalPrinterColumns: { name: string; jsonPath: string; priority?: number }[];
  schema: { openAPIV3Schema: StructuralSchema };
}

const version = (): Version =>
  (queueMigrationCrd() as { spec: { versions: Version[] } }).spec.versions[0] as Version;

/** Every node of a schema with its path. */
function* nodes(schema: StructuralSchema, at = ''): Generator<[string, StructuralSchema]> {
  yield [at, schema];
  for (const [name, child] of Object.entries(schema.properties ?? {})) yield* nodes(child, `${at}.${name}`);
  if (schema.items) yield* nodes(schema.items, `${at}[]`);
  if (schema.additionalProperties) yield* nodes(schema.additionalProperties, `${at}.*`);
}

describe('the QueueMigration CRD', () => {
  it('is committed as generated from the schema (run `node scripts/generate-crd.ts` when this fails)', () => {
    expect(fs.readFileSync(CRD_FILE, 'utf8')).toBe(renderCrd());
  });

  it('has the status subresource and the printer columns of `kubectl get qm`', () => {
    const { subresources, additionalPrinterColumns } = version();
    expect(subresources).toEqual({ status: {} });
    expect(additionalPrinterColumns.map((c) => [c.name, c.jsonPath, c.priority ?? 0])).toEqual([
      ['Stage', '.status.stage', 0],
      ['Phase', '.status.phase', 0],
      ['Backlog', '.status.backlog', 0],
      ['Error Rate', '.status.errorRate', 0],
      ['Age', '.metadata.creationTimestamp', 0],
      ['Message', '.status.message', 1],
    ]);
  });

  it('bounds every list and string under spec and status, so CEL rules stay within their cost budget', () => {
    const unbounded = [...nodes(version().schema.openAPIV3Schema)]
      .filter(([at]) => at.startsWith('.spec') || at.startsWith('.status'))
      .filter(
        ([, node]) =>
          (node.type === 'array' && node.maxItems === undefined) ||
          (node.type === 'string' && node.maxLength === undefined && node.enum === undefined),
      )
      .map(([at]) => at);
    expect(unbounded).toEqual([]);
  });

  it('describes every spec field for kubectl explain', () => {
    const undescribed = [...nodes(version().schema.openAPIV3Schema)]
      .filter(([at]) => at.startsWith('.spec') && !at.endsWith('[]'))
      .filter(([, node]) => node.description === undefined)
      .map(([at]) => at);
    expect(undescribed).toEqual([]);
  });

  it('fixes every target once status.startedAt is set, through a transition rule per field', () => {
    const rules = version().schema.openAPIV3Schema['x-kubernetes-validations'] ?? [];
    expect(rules.map((r) => r.fieldPath)).toEqual(TARGET_FIELDS.map((field) => `.spec.${field}`));
    for (const rule of rules) {
      expect(rule.rule).toContain('oldSelf.status.startedAt');
      expect(rule.message).toMatch(/^spec\.\S+ cannot change once the migration has started/);
    }
  });
});
