import type { V1Probe } from '@kubernetes/client-node';

export type ProbeKind = 'startup' | 'readiness' | 'liveness';

/** A probe's timing and thresholds with the Kubernetes defaults applied, in milliseconds. */
export interface ProbeSettings {
  initialDelayMs: number;
  periodMs: number;
  timeoutMs: number;
  successThreshold: number;
  failureThreshold: number;
}

export function probeSettings(probe: V1Probe, kind: ProbeKind): ProbeSettings {
  const positive = (value: number | undefined, fallback: number): number =>
    value !== undefined && value > 0 ? value : fallback;
  return {
    initialDelayMs: Math.max(0, probe.initialDelaySeconds ?? 0) * 1000,
    periodMs: positive(probe.periodSeconds, 10) * 1000,
    timeoutMs: positive(probe.timeoutSeconds, 1) * 1000,
    // Liveness and startup probes must use 1 (the API server enforces it); readiness may use more.
    successThreshold: kind === 'readiness' ? positive(probe.successThreshold, 1) : 1,
    failureThreshold: positive(probe.failureThreshold, 3),
  };
}

/**
 * A probe's current verdict and the streak that leads to the next one. `result` only flips after
 * `successThreshold` consecutive successes or `failureThreshold` consecutive failures.
 */
export interface ProbeState {
  result: boolean;
  successes: number;
  failures: number;
}

/** Before any probe ran: readiness and startup count as failing, liveness as passing. */
export function initialProbeState(kind: ProbeKind): ProbeState {
  return { result: kind === 'liveness', successes: 0, failures: 0 };
}

export function recordProbe(
  state: ProbeState,
  success: boolean,
  thresholds: Pick<ProbeSettings, 'successThreshold' | 'failureThreshold'>,
): ProbeState {
  const successes = success ? state.successes + 1 : 0;
  const failures = success ? 0 : state.failures + 1;
  let result = state.result;
  if (success && successes >= thresholds.successThreshold) result = true;
  if (!success && failures >= thresholds.failureThreshold) result = false;
  return { result, successes, failures };
}
