import type { z } from 'zod';

/**
 * A validation rule stated twice, side by side: as CEL for the API server (so `kubectl apply`
 * refuses a bad spec with the field named) and as a TypeScript check for the operator (which
 * validates what it reads with the same schema). Keeping both in one object is what keeps them
 * from drifting apart; the invalid-spec table runs through both.
 */
export interface Rule<T> {
  /** CEL over `self`, the value of the schema the rule is attached to. */
  cel: string;
  /** The same condition in TypeScript. */
  holds: (value: T) => boolean;
  /** Names the offending field; the API server prefixes it with the path of `self`. */
  message: string;
  /** Relative path of the field to blame, in CEL's field-path form (`.consumers`). */
  fieldPath?: string;
  reason?: 'FieldValueInvalid' | 'FieldValueForbidden' | 'FieldValueRequired' | 'FieldValueDuplicate';
}

export interface KubernetesValidation {
  rule: string;
  message: string;
  fieldPath?: string;
  reason?: string;
}

/** `.consumers[0].name` → ['consumers', 0, 'name'], the path zod reports issues under. */
export function fieldPathSegments(fieldPath: string | undefined): (string | number)[] {
  if (fieldPath === undefined) return [];
  return [...fieldPath.matchAll(/\.([A-Za-z0-9_]+)|\[(\d+)\]/g)].map(([, key, index]) =>
    key === undefined ? Number(index) : key,
  );
}

export function toKubernetesValidation<T>(rule: Rule<T>): KubernetesValidation {
  return {
    rule: rule.cel,
    message: rule.message,
    ...(rule.fieldPath !== undefined && { fieldPath: rule.fieldPath }),
    ...(rule.reason !== undefined && { reason: rule.reason }),
  };
}

const VALIDATIONS = 'x-kubernetes-validations';

/**
 * Attaches rules to a schema: zod checks them when the operator parses, and the JSON Schema (hence
 * the CRD) carries them as `x-kubernetes-validations`, after any rules the schema already had.
 */
export function withRules<S extends z.ZodType>(schema: S, rules: readonly Rule<z.output<S>>[]): S {
  const inherited = (schema.meta()?.[VALIDATIONS] ?? []) as KubernetesValidation[];
  const checked = schema.superRefine((value, context) => {
    for (const rule of rules) {
      if (!rule.holds(value)) {
        context.addIssue({ code: 'custom', message: rule.message, path: fieldPathSegments(rule.fieldPath) });
      }
    }
  });
  return checked.meta({ [VALIDATIONS]: [...inherited, ...rules.map(toKubernetesValidation)] });
}
