import type { Condition } from '../api/status-schema.ts';
import type { Pass } from './pass.ts';

export interface ConditionInput {
  type: string;
  status: Condition['status'];
  reason: string;
  message: string;
}

/** Sets a condition; its transition time changes only when its status does. */
export function setCondition(pass: Pass, input: ConditionInput): void {
  const conditions = pass.status.conditions ?? [];
  const previous = conditions.find((c) => c.type === input.type);
  const next: Condition = {
    ...input,
    message: input.message.slice(0, 1_024),
    lastTransitionTime:
      previous !== undefined && previous.status === input.status ? previous.lastTransitionTime : pass.nowIso,
    observedGeneration: pass.generation,
  };
  pass.status.conditions = [...conditions.filter((c) => c.type !== input.type), next].sort((a, b) =>
    a.type.localeCompare(b.type),
  );
}
