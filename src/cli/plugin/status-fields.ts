import { z } from 'zod';

/**
 * A lenient reading of a QueueMigration for display. The plugin may meet an operator older or
 * newer than itself: a field that is absent or has another shape is left out of the view, never a
 * reason to show nothing. (The operator's own schema, src/operator/api, is the strict one.)
 */

const text = z.union([z.string(), z.number(), z.boolean()]).transform(String).optional().catch(undefined);
const whole = z.number().optional().catch(undefined);

/** The entries of a list that read as `item`; the others are skipped. */
const listOf = <T extends z.ZodType>(item: T): z.ZodType<z.output<T>[]> =>
  z
    .array(z.unknown())
    .catch([])
    .transform((entries) =>
      entries.flatMap((entry) => {
        const parsed = item.safeParse(entry);
        return parsed.success ? [parsed.data] : [];
      }),
    )
    .optional()
    .transform((entries) => entries ?? []);

const historyEntry = z.object({
  seq: whole,
  at: text,
  reason: text,
  stage: text,
  step: whole,
  message: text,
});

const gateResult = z.object({
  gate: text,
  subject: text,
  verdict: text,
  metric: text,
  value: text,
  threshold: text,
  message: text,
});

const condition = z.object({
  type: text,
  status: text,
  reason: text,
  message: text,
  lastTransitionTime: text,
});

const rollback = z
  .object({
    step: text,
    reason: text,
    startedAt: text,
    stepStartedAt: text,
    failures: whole,
    retryAt: text,
  })
  .optional()
  .catch(undefined);

const conflict = z
  .object({ deployment: text, variable: text, manager: text, detectedAt: text })
  .optional()
  .catch(undefined);

const tokens = z.record(z.string(), z.string()).optional().catch(undefined);

const statusView = z
  .object({
    phase: text,
    stage: text,
    step: whole,
    message: text,
    backlog: text,
    errorRate: text,
    startedAt: text,
    stageStartedAt: text,
    stepStartedAt: text,
    greenSince: text,
    rollback,
    conflict,
    lastHandledTokens: tokens,
    gates: listOf(gateResult),
    plan: listOf(z.string()),
    history: listOf(historyEntry),
    conditions: listOf(condition),
  })
  .catch({ gates: [], plan: [], history: [], conditions: [] });

const objectView = z.object({
  metadata: z.object({
    name: z.string(),
    namespace: z.string().catch(''),
    creationTimestamp: text,
    annotations: z.record(z.string(), z.string()).optional().catch(undefined),
  }),
  spec: z
    .object({
      paused: z.boolean().optional().catch(undefined),
      dryRun: z.boolean().optional().catch(undefined),
    })
    .catch({}),
  status: z
    .unknown()
    .optional()
    .transform((value) => statusView.parse(value ?? {})),
});

export type StatusView = z.output<typeof statusView>;
export type HistoryView = StatusView['history'][number];
export type MigrationView = z.output<typeof objectView>;

/** The fields the plugin shows; throws only when the object has no name (not a QueueMigration). */
export function readMigration(object: unknown): MigrationView {
  return objectView.parse(object);
}
