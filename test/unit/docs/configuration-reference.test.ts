import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { queueMigrationCrd } from '../../../src/operator/api/crd.ts';
import { consumerVariables, producerVariables, variablesInSource } from './fixtures/accepted-variables.ts';
import { codeSpans, section, subsection, tableRows } from './fixtures/readme-tables.ts';

const file = (relative: string): string => fileURLToPath(new URL(relative, import.meta.url));
const README = fs.readFileSync(file('../../../README.md'), 'utf8');
const REFERENCE = section(README, 'Configuration reference');
const SERVICE_VARIABLES = variablesInSource(file('../../../src/cli/service-env.ts'));
const OPERATOR_VARIABLES = variablesInSource(file('../../../src/cli/operator-command.ts'));

const sorted = (names: Iterable<string>): string[] => [...new Set(names)].sort();

/** Variables of a table's first column, with the code spans of another column of the same row. */
function variableRows(title: string, column?: number): { name: string; tags: string[] }[] {
  return tableRows(subsection(REFERENCE, title)).flatMap(({ cells }) => {
    const tags = column === undefined ? [] : codeSpans(cells[column] ?? '');
    return codeSpans(cells[0] ?? '').map((name) => ({ name, tags }));
  });
}

interface SchemaNode {
  properties?: Record<string, SchemaNode>;
  items?: SchemaNode;
  default?: unknown;
}

/**
 * The spec's fields as the README names them: leaf paths, `[]` after a list of objects
 * (`producers[].name`); a list of plain values is one field (`redis.endpoint.sentinels`).
 */
function specFields(node: SchemaNode, path = ''): { path: string; default: unknown }[] {
  if (node.properties !== undefined) {
    return Object.entries(node.properties).flatMap(([name, child]) =>
      specFields(child, path === '' ? name : `${path}.${name}`),
    );
  }
  if (node.items?.properties !== undefined) return specFields(node.items, `${path}[]`);
  return [{ path, default: node.default }];
}

const crd = queueMigrationCrd() as {
  spec: { versions: { schema: { openAPIV3Schema: { properties: { spec: SchemaNode } } } }[] };
};
const SPEC_SCHEMA = crd.spec.versions[0]?.schema.openAPIV3Schema.properties.spec ?? {};

describe('the README configuration reference', () => {
  const services = variableRows('Webhook and worker environment', 1);

  it('lists every variable the webhook and the worker read', () => {
    const documented = new Set(services.map((row) => row.name));
    const accepted = [...producerVariables(), ...consumerVariables(), ...SERVICE_VARIABLES];
    expect(sorted(accepted).filter((name) => !documented.has(name))).toEqual([]);
  });

  it('names only variables the webhook and the worker read, for the entry point that reads each', () => {
    const readBy = { webhook: producerVariables(), worker: consumerVariables() };
    const wrong = services.flatMap(({ name, tags }) => {
      if (tags.length === 0) return [`${name}: no entry point named`];
      return tags.flatMap((tag) => {
        const adapter = readBy[tag as keyof typeof readBy] as Set<string> | undefined;
        if (adapter === undefined) return [`${name}: ${tag} is not an entry point`];
        return adapter.has(name) || SERVICE_VARIABLES.has(name) ? [] : [`${name}: not read by ${tag}`];
      });
    });
    expect(wrong).toEqual([]);
    // The adapter's variables are marked for each entry point whose parser reads them.
    const marked = (tag: string): Set<string> =>
      new Set(services.filter((row) => row.tags.includes(tag)).map((row) => row.name));
    expect(sorted(producerVariables()).filter((name) => !marked('webhook').has(name))).toEqual([]);
    expect(sorted(consumerVariables()).filter((name) => !marked('worker').has(name))).toEqual([]);
  });

  it('lists exactly the variables the operator reads', () => {
    expect(sorted(variableRows('Operator environment').map((row) => row.name))).toEqual(
      sorted(OPERATOR_VARIABLES),
    );
  });

  it('lists exactly the fields of the QueueMigration spec, with the schema’s defaults', () => {
    const rows = tableRows(subsection(REFERENCE, 'QueueMigration spec')).flatMap(({ cells }) =>
      codeSpans(cells[0] ?? '').map((path) => ({ path, defaultCell: cells[2] ?? '' })),
    );
    const fields = specFields(SPEC_SCHEMA);
    expect(fields.length).toBeGreaterThan(0);
    expect(sorted(rows.map((row) => row.path))).toEqual(sorted(fields.map((field) => field.path)));
    const wrongDefaults = fields.flatMap((field) => {
      if (field.default === undefined || typeof field.default === 'object') return [];
      const shown = typeof field.default === 'string' ? field.default : JSON.stringify(field.default);
      const row = rows.find((candidate) => candidate.path === field.path);
      return row !== undefined && codeSpans(row.defaultCell).includes(shown)
        ? []
        : [`${field.path}: default \`${shown}\` not shown`];
    });
    expect(wrongDefaults).toEqual([]);
  });

  it.each([
    ['| `A`, `B` | x |\n', ['A', 'B']],
    ['| `A` | x |\n', ['A']],
  ])('reads the names of a body row (%j)', (row, names) => {
    const table = `| variable | meaning |\n| --- | --- |\n${row}`;
    expect(tableRows(table).flatMap(({ cells }) => codeSpans(cells[0] ?? ''))).toEqual(names);
  });
});
