/**
 * Converts the JSON Schema that zod 4 emits (`z.toJSONSchema(schema, { io: 'input', reused: 'inline' })`)
 * into a Kubernetes structural schema, for a named subset and nothing more:
 *
 * - one `type` per node: object, array, string, integer, number or boolean;
 * - objects with `properties` (+ `required`), or maps (`additionalProperties: <schema>` with
 *   `maxProperties`); `additionalProperties: false` is dropped (the API server prunes unknown fields);
 * - arrays with one `items` schema and a `maxItems`; strings with a `maxLength` or an `enum`, so that
 *   CEL rules fit the API server's cost budget;
 * - `anyOf`/`oneOf` only as `X | null` (→ `nullable: true`) or as a union of objects discriminated
 *   by a property with a constant value in each branch (→ one object whose discriminator is an enum,
 *   with CEL rules that require each branch's fields and forbid the others');
 * - `const` → a one-value `enum`; numeric `exclusiveMinimum: n` → `minimum: n, exclusiveMinimum: true`;
 * - `format: date-time` only (zod's accompanying `pattern` is dropped: it is not RE2 and the format
 *   already validates);
 * - annotations: `description`, `title`, `default`, and the `x-kubernetes-*` extensions below.
 *
 * Anything else (`$ref`, `allOf`, unions without discriminator, unbounded lists or strings, other
 * formats, unknown keywords) is refused with the path of the node, never silently dropped.
 */
import { isDeepStrictEqual } from 'node:util';
import type { KubernetesValidation } from './cel-rule.ts';

export type JsonSchema = Readonly<Record<string, unknown>>;

export interface StructuralSchema {
  type: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';
  description?: string;
  title?: string;
  default?: unknown;
  nullable?: boolean;
  properties?: Record<string, StructuralSchema>;
  required?: string[];
  additionalProperties?: StructuralSchema;
  maxProperties?: number;
  minProperties?: number;
  items?: StructuralSchema;
  maxItems?: number;
  minItems?: number;
  maxLength?: number;
  minLength?: number;
  pattern?: string;
  format?: string;
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: boolean;
  exclusiveMaximum?: boolean;
  multipleOf?: number;
  'x-kubernetes-validations'?: KubernetesValidation[];
  'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-map-type'?: 'atomic' | 'granular';
  'x-kubernetes-preserve-unknown-fields'?: boolean;
}

export const STRUCTURAL_SCHEMA_ERRORS = {
  STRUCTURAL_UNSUPPORTED_KEYWORD: 'A JSON Schema keyword outside the supported subset.',
  STRUCTURAL_MISSING_TYPE: 'A node without a single supported `type`.',
  STRUCTURAL_UNION_WITHOUT_DISCRIMINATOR:
    'An anyOf/oneOf that is neither `X | null` nor a union of objects with a constant discriminator.',
  STRUCTURAL_CONFLICTING_BRANCHES: 'Two branches of a discriminated union define a property differently.',
  STRUCTURAL_UNBOUNDED:
    'A list without maxItems, a string without maxLength or enum, or a map without maxProperties.',
  STRUCTURAL_UNSUPPORTED_FORMAT: 'A string format the API server and zod do not both validate.',
  STRUCTURAL_INVALID_LIST_MAP: 'A list-map whose items are not objects requiring every key.',
} as const;

export type StructuralSchemaErrorCode = keyof typeof STRUCTURAL_SCHEMA_ERRORS;

export class StructuralSchemaError extends Error {
  readonly code: StructuralSchemaErrorCode;
  /** JSON path of the offending node, `.spec.producers.items`. */
  readonly path: string;

  constructor(code: StructuralSchemaErrorCode, path: string, detail: string) {
    super(`${code}: ${detail} (at ${path === '' ? 'the root' : path})`);
    this.name = 'StructuralSchemaError';
    this.code = code;
    this.path = path;
  }
}

const TYPES = new Set(['object', 'array', 'string', 'integer', 'number', 'boolean']);
const SUPPORTED_FORMATS = new Set(['date-time']);

/** Copied as they are. */
const PASSED_THROUGH = [
  'description',
  'title',
  'default',
  'minItems',
  'maxItems',
  'minLength',
  'maxLength',
  'pattern',
  'minimum',
  'maximum',
  'multipleOf',
  'minProperties',
  'maxProperties',
  'x-kubernetes-validations',
  'x-kubernetes-list-type',
  'x-kubernetes-list-map-keys',
  'x-kubernetes-map-type',
  'x-kubernetes-preserve-unknown-fields',
] as const;

/** Handled by the conversion itself. */
const CONVERTED = new Set([
  'type',
  'properties',
  'required',
  'additionalProperties',
  'propertyNames',
  'items',
  'enum',
  'const',
  'format',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'anyOf',
  'oneOf',
]);

const KNOWN = new Set<string>([...PASSED_THROUGH, ...CONVERTED]);

/** `at` is the path of `schema` in the whole object (`.spec`), for error messages. */
export function toStructuralSchema(schema: JsonSchema, at = ''): StructuralSchema {
  const { $schema: _dialect, ...root } = schema;
  return convert(root, at);
}

function convert(node: JsonSchema, path: string): StructuralSchema {
  for (const key of Object.keys(node)) {
    if (!KNOWN.has(key)) {
      throw new StructuralSchemaError(
        'STRUCTURAL_UNSUPPORTED_KEYWORD',
        path,
        `keyword "${key}" is not supported`,
      );
    }
  }
  const union = (node.anyOf ?? node.oneOf) as JsonSchema[] | undefined;
  if (union !== undefined) return convertUnion(node, union, path);

  const type = node.type;
  if (typeof type !== 'string' || !TYPES.has(type)) {
    throw new StructuralSchemaError(
      'STRUCTURAL_MISSING_TYPE',
      path,
      `type must be one of ${[...TYPES].join(', ')}, found ${JSON.stringify(type)}`,
    );
  }
  const out: StructuralSchema = { type: type as StructuralSchema['type'] };
  for (const key of PASSED_THROUGH) {
    if (node[key] !== undefined) (out as unknown as Record<string, unknown>)[key] = node[key];
  }
  if (node.const !== undefined) out.enum = [node.const];
  if (node.enum !== undefined) out.enum = [...(node.enum as unknown[])];
  numericBounds(node, out);

  switch (out.type) {
    case 'object':
      convertObject(node, out, path);
      break;
    case 'array':
      convertArray(node, out, path);
      break;
    case 'string':
      convertString(node, out, path);
      break;
    default:
      break;
  }
  return out;
}

/** JSON Schema 2020-12 has numeric exclusive bounds; OpenAPI v3.0 (Kubernetes) has boolean flags. */
function numericBounds(node: JsonSchema, out: StructuralSchema): void {
  if (typeof node.exclusiveMinimum === 'number') {
    out.minimum = node.exclusiveMinimum;
    out.exclusiveMinimum = true;
  }
  if (typeof node.exclusiveMaximum === 'number') {
    out.maximum = node.exclusiveMaximum;
    out.exclusiveMaximum = true;
  }
}

function convertObject(node: JsonSchema, out: StructuralSchema, path: string): void {
  const properties = node.properties as Record<string, JsonSchema> | undefined;
  const additional = node.additionalProperties;
  if (properties !== undefined) {
    out.properties = Object.fromEntries(
      Object.entries(properties).map(([name, child]) => [name, convert(child, `${path}.${name}`)]),
    );
    if (Array.isArray(node.required) && node.required.length > 0)
      out.required = [...(node.required as string[])];
  }
  if (typeof additional === 'object' && additional !== null) {
    if (properties !== undefined) {
      throw new StructuralSchemaError(
        'STRUCTURAL_UNSUPPORTED_KEYWORD',
        path,
        'an object has either properties or additionalProperties, not both',
      );
    }
    if (out.maxProperties === undefined) {
      throw new StructuralSchemaError('STRUCTURAL_UNBOUNDED', path, 'a map needs maxProperties');
    }
    out.additionalProperties = convert(additional as JsonSchema, `${path}.*`);
    const names = node.propertyNames as JsonSchema | undefined;
    if (names !== undefined && !isDeepStrictEqual(names, { type: 'string' })) {
      throw new StructuralSchemaError('STRUCTURAL_UNSUPPORTED_KEYWORD', path, 'propertyNames beyond strings');
    }
  } else if (additional === true) {
    out['x-kubernetes-preserve-unknown-fields'] = true;
  }
}

function convertArray(node: JsonSchema, out: StructuralSchema, path: string): void {
  const items = node.items;
  if (typeof items !== 'object' || items === null || Array.isArray(items)) {
    throw new StructuralSchemaError('STRUCTURAL_MISSING_TYPE', path, 'an array needs one items schema');
  }
  if (out.maxItems === undefined) {
    throw new StructuralSchemaError('STRUCTURAL_UNBOUNDED', path, 'a list needs maxItems');
  }
  out.items = convert(items as JsonSchema, `${path}[]`);
  if (out['x-kubernetes-list-type'] === 'map') {
    const keys = out['x-kubernetes-list-map-keys'] ?? [];
    const required = out.items.required ?? [];
    if (out.items.type !== 'object' || keys.length === 0 || !keys.every((key) => required.includes(key))) {
      throw new StructuralSchemaError(
        'STRUCTURAL_INVALID_LIST_MAP',
        path,
        `a list-map needs object items that require its keys (${keys.join(', ')})`,
      );
    }
  }
}

function convertString(node: JsonSchema, out: StructuralSchema, path: string): void {
  if (node.format !== undefined) {
    if (typeof node.format !== 'string' || !SUPPORTED_FORMATS.has(node.format)) {
      throw new StructuralSchemaError(
        'STRUCTURAL_UNSUPPORTED_FORMAT',
        path,
        `format ${JSON.stringify(node.format)} (supported: ${[...SUPPORTED_FORMATS].join(', ')})`,
      );
    }
    out.format = node.format;
    delete out.pattern;
  }
  if (out.maxLength === undefined && out.enum === undefined) {
    throw new StructuralSchemaError('STRUCTURAL_UNBOUNDED', path, 'a string needs maxLength or enum');
  }
}

function convertUnion(node: JsonSchema, branches: readonly JsonSchema[], path: string): StructuralSchema {
  const { anyOf: _anyOf, oneOf: _oneOf, ...annotations } = node;
  const nonNull = branches.filter((branch) => branch.type !== 'null');
  if (nonNull.length === 1 && branches.length === 2 && nonNull[0] !== undefined) {
    return { ...convert({ ...nonNull[0], ...annotations }, path), nullable: true };
  }
  return convertDiscriminated(annotations, branches, path);
}

interface Branch {
  value: string;
  schema: StructuralSchema;
}

/** The property that holds a distinct constant in every branch. */
function discriminatorOf(branches: readonly StructuralSchema[]): string | undefined {
  const first = branches[0]?.properties ?? {};
  return Object.keys(first).find((name) => {
    const values = branches.map((branch) => {
      const property = branch.properties?.[name];
      return property?.type === 'string' && property.enum?.length === 1 && branch.required?.includes(name)
        ? property.enum[0]
        : undefined;
    });
    return values.every((value) => typeof value === 'string') && new Set(values).size === values.length;
  });
}

function convertDiscriminated(
  annotations: JsonSchema,
  raw: readonly JsonSchema[],
  path: string,
): StructuralSchema {
  const converted = raw.map((branch, i) => convert(branch, `${path}<${i}>`));
  const discriminator = converted.every((branch) => branch.type === 'object')
    ? discriminatorOf(converted)
    : undefined;
  if (discriminator === undefined) {
    throw new StructuralSchemaError(
      'STRUCTURAL_UNION_WITHOUT_DISCRIMINATOR',
      path,
      'a union must be `X | null` or objects with a discriminator property holding a constant',
    );
  }
  const branches: Branch[] = converted.map((schema) => ({
    value: schema.properties?.[discriminator]?.enum?.[0] as string,
    schema,
  }));
  const properties: Record<string, StructuralSchema> = {};
  for (const { schema } of branches) {
    for (const [name, property] of Object.entries(schema.properties ?? {})) {
      if (name === discriminator) continue;
      const seen = properties[name];
      if (seen !== undefined && !isDeepStrictEqual(seen, property)) {
        throw new StructuralSchemaError(
          'STRUCTURAL_CONFLICTING_BRANCHES',
          `${path}.${name}`,
          'branches of the union define this property differently',
        );
      }
      properties[name] = property;
    }
  }
  const valueDescriptions = branches
    .map(({ value, schema }) => {
      const description = schema.properties?.[discriminator]?.description;
      return description === undefined ? `\`${value}\`` : `\`${value}\`: ${description}`;
    })
    .join(' ');
  const validations: KubernetesValidation[] = [
    ...((annotations['x-kubernetes-validations'] as KubernetesValidation[] | undefined) ?? []),
    ...branches.flatMap((branch) => branchRules(discriminator, branch, Object.keys(properties))),
  ];
  return {
    ...convert({ ...annotations, type: 'object' }, path),
    properties: {
      [discriminator]: { type: 'string', enum: branches.map((b) => b.value), description: valueDescriptions },
      ...properties,
    },
    required: [discriminator],
    'x-kubernetes-validations': validations,
  };
}

/** In branch `value`: its required fields are required, the other branches' fields forbidden. */
function branchRules(discriminator: string, branch: Branch, all: readonly string[]): KubernetesValidation[] {
  const when = `self.${discriminator} != '${branch.value}'`;
  const own = branch.schema.properties ?? {};
  const required = (branch.schema.required ?? []).filter((name) => name !== discriminator);
  const wrapped = (branch.schema['x-kubernetes-validations'] ?? []).map((rule) => ({
    ...rule,
    rule: `${when} || (${rule.rule})`,
  }));
  return [
    ...required.map((name) => ({
      rule: `${when} || has(self.${name})`,
      message: `${name} is required when ${discriminator} is ${branch.value}`,
      fieldPath: `.${name}`,
      reason: 'FieldValueRequired',
    })),
    ...all
      .filter((name) => !(name in own))
      .map((name) => ({
        rule: `${when} || !has(self.${name})`,
        message: `${name} is not allowed when ${discriminator} is ${branch.value}`,
        fieldPath: `.${name}`,
        reason: 'FieldValueForbidden',
      })),
    ...wrapped,
  ];
}
