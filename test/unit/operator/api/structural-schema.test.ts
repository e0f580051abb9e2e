import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  STRUCTURAL_SCHEMA_ERRORS,
  StructuralSchemaError,
  toStructuralSchema,
  type JsonSchema,
  type StructuralSchemaErrorCode,
} from '../../../../src/operator/api/structural-schema.ts';

const jsonSchema = (schema: z.ZodType): JsonSchema =>
  z.toJSONSchema(schema, { io: 'input', reused: 'inline', unrepresentable: 'throw' });

const structural = (schema: z.ZodType): unknown => toStructuralSchema(jsonSchema(schema));

describe('the structural-schema converter', () => {
  it('keeps types, bounds, patterns, defaults and descriptions, and drops the dialect', () => {
    const schema = z
      .object({
        name: z
          .string()
          .min(1)
          .max(10)
          .regex(/^[a-z]+$/)
          .describe('A name.'),
        count: z.number().int().min(0).max(5).default(1),
        enabled: z.boolean().default(false),
        tags: z.array(z.string().max(8)).max(3).optional(),
      })
      .describe('Top.');
    expect(structural(schema)).toEqual({
      type: 'object',
      description: 'Top.',
      properties: {
        name: { type: 'string', description: 'A name.', minLength: 1, maxLength: 10, pattern: '^[a-z]+$' },
        count: { type: 'integer', default: 1, minimum: 0, maximum: 5 },
        enabled: { type: 'boolean', default: false },
        tags: { type: 'array', maxItems: 3, items: { type: 'string', maxLength: 8 } },
      },
      required: ['name'],
    });
  });

  it('turns a nullable value into `nullable: true` on the value’s own schema', () => {
    expect(structural(z.object({ n: z.number().max(3).nullable().describe('N.') }))).toEqual({
      type: 'object',
      properties: { n: { type: 'number', maximum: 3, description: 'N.', nullable: true } },
      required: ['n'],
    });
  });

  it('turns literals into one-value enums and numeric exclusive bounds into OpenAPI flags', () => {
    expect(structural(z.object({ k: z.literal('fixed'), p: z.number().positive().lt(10) }))).toEqual({
      type: 'object',
      properties: {
        k: { type: 'string', enum: ['fixed'] },
        p: { type: 'number', minimum: 0, exclusiveMinimum: true, maximum: 10, exclusiveMaximum: true },
      },
      required: ['k', 'p'],
    });
  });

  it('drops additionalProperties:false (the API server prunes) and keeps bounded maps', () => {
    const strict = z.strictObject({ a: z.string().max(1) });
    expect(structural(strict)).toEqual({
      type: 'object',
      properties: { a: { type: 'string', maxLength: 1 } },
      required: ['a'],
    });
    const map = z.record(z.string(), z.string().max(5)).meta({ maxProperties: 4 });
    expect(structural(map)).toEqual({
      type: 'object',
      maxProperties: 4,
      additionalProperties: { type: 'string', maxLength: 5 },
    });
  });

  it('merges a discriminated union into one object, with rules that require and forbid each branch’s fields', () => {
    const union = z.discriminatedUnion('kind', [
      z.object({
        kind: z.literal('a').describe('Use a.'),
        x: z.string().max(3),
        shared: z.boolean().optional(),
      }),
      z.object({ kind: z.literal('b'), y: z.number().optional(), shared: z.boolean().optional() }),
    ]);
    expect(structural(union)).toEqual({
      type: 'object',
      properties: {
        kind: { type: 'string', enum: ['a', 'b'], description: '`a`: Use a. `b`' },
        x: { type: 'string', maxLength: 3 },
        shared: { type: 'boolean' },
        y: { type: 'number' },
      },
      required: ['kind'],
      'x-kubernetes-validations': [
        {
          rule: "self.kind != 'a' || has(self.x)",
          message: 'x is required when kind is a',
          fieldPath: '.x',
          reason: 'FieldValueRequired',
        },
        {
          rule: "self.kind != 'a' || !has(self.y)",
          message: 'y is not allowed when kind is a',
          fieldPath: '.y',
          reason: 'FieldValueForbidden',
        },
        {
          rule: "self.kind != 'b' || !has(self.x)",
          message: 'x is not allowed when kind is b',
          fieldPath: '.x',
          reason: 'FieldValueForbidden',
        },
      ],
    });
  });

  it('keeps a branch’s own rules, applied only when its discriminator value is chosen', () => {
    const union = z.discriminatedUnion('kind', [
      z
        .object({ kind: z.literal('a') })
        .meta({ 'x-kubernetes-validations': [{ rule: 'true', message: 'm' }] }),
      z.object({ kind: z.literal('b') }),
    ]);
    expect(toStructuralSchema(jsonSchema(union))['x-kubernetes-validations']).toEqual([
      { rule: "self.kind != 'a' || (true)", message: 'm' },
    ]);
  });

  it('keeps date-time formats and drops zod’s non-RE2 pattern that comes with them', () => {
    expect(structural(z.object({ at: z.iso.datetime().max(40) }))).toEqual({
      type: 'object',
      properties: { at: { type: 'string', format: 'date-time', maxLength: 40 } },
      required: ['at'],
    });
  });

  const listMap = (item: z.ZodType): z.ZodType =>
    z
      .array(item)
      .max(2)
      .meta({ 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'] });

  it('keeps a list-map whose items require its keys', () => {
    expect(structural(listMap(z.object({ name: z.string().max(3) })))).toMatchObject({
      'x-kubernetes-list-type': 'map',
      items: { required: ['name'] },
    });
  });

  const refusals: [string, JsonSchema, StructuralSchemaErrorCode, string][] = [
    [
      'a $ref',
      { type: 'object', properties: { a: { $ref: '#/$defs/A' } } },
      'STRUCTURAL_UNSUPPORTED_KEYWORD',
      '.a',
    ],
    ['allOf', { allOf: [{ type: 'string' }] }, 'STRUCTURAL_UNSUPPORTED_KEYWORD', ''],
    ['a list of types', { type: ['string', 'number'], maxLength: 1 }, 'STRUCTURAL_MISSING_TYPE', ''],
    [
      'a node without type',
      { type: 'object', properties: { a: { description: 'x' } } },
      'STRUCTURAL_MISSING_TYPE',
      '.a',
    ],
    ['an unbounded list', { type: 'array', items: { type: 'boolean' } }, 'STRUCTURAL_UNBOUNDED', ''],
    [
      'an unbounded string in a list',
      { type: 'array', maxItems: 1, items: { type: 'string' } },
      'STRUCTURAL_UNBOUNDED',
      '[]',
    ],
    [
      'an unbounded map',
      { type: 'object', additionalProperties: { type: 'boolean' } },
      'STRUCTURAL_UNBOUNDED',
      '',
    ],
    [
      'a format the API server reads differently',
      { type: 'string', format: 'email', maxLength: 9 },
      'STRUCTURAL_UNSUPPORTED_FORMAT',
      '',
    ],
    [
      'a union of scalars',
      { anyOf: [{ type: 'string', maxLength: 1 }, { type: 'number' }] },
      'STRUCTURAL_UNION_WITHOUT_DISCRIMINATOR',
      '',
    ],
    [
      'a union of objects without a constant discriminator',
      jsonSchema(z.union([z.object({ a: z.string().max(1) }), z.object({ b: z.string().max(1) })])),
      'STRUCTURAL_UNION_WITHOUT_DISCRIMINATOR',
      '',
    ],
    [
      'a union whose branches disagree on a shared property',
      jsonSchema(
        z.discriminatedUnion('k', [
          z.object({ k: z.literal('a'), v: z.string().max(1) }),
          z.object({ k: z.literal('b'), v: z.number() }),
        ]),
      ),
      'STRUCTURAL_CONFLICTING_BRANCHES',
      '.v',
    ],
    [
      'a list-map whose key is optional',
      jsonSchema(listMap(z.object({ name: z.string().max(3).optional() }))),
      'STRUCTURAL_INVALID_LIST_MAP',
      '',
    ],
  ];

  it.each(refusals)('refuses %s, naming the node', (_what, input, code, path) => {
    let thrown: unknown;
    try {
      toStructuralSchema(input);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(StructuralSchemaError);
    expect(thrown).toMatchObject({ code, path });
  });

  it('has a refusal case for every documented error code', () => {
    expect(new Set(refusals.map(([, , code]) => code))).toEqual(
      new Set(Object.keys(STRUCTURAL_SCHEMA_ERRORS)),
    );
  });
});
