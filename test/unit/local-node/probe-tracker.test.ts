import { describe, expect, it } from 'vitest';
import {
  initialProbeState,
  probeSettings,
  recordProbe,
  type ProbeState,
} from '../../env/local-node/probe-tracker.ts';

function run(
  initial: ProbeState,
  results: boolean[],
  thresholds: { successThreshold: number; failureThreshold: number },
): boolean[] {
  let state = initial;
  return results.map((ok) => (state = recordProbe(state, ok, thresholds)).result);
}

describe('probe thresholds', () => {
  it('applies the Kubernetes defaults', () => {
    expect(probeSettings({}, 'readiness')).toEqual({
      initialDelayMs: 0,
      periodMs: 10_000,
      timeoutMs: 1_000,
      successThreshold: 1,
      failureThreshold: 3,
    });
    expect(
      probeSettings(
        {
          initialDelaySeconds: 2,
          periodSeconds: 1,
          timeoutSeconds: 3,
          successThreshold: 2,
          failureThreshold: 5,
        },
        'readiness',
      ),
    ).toEqual({
      initialDelayMs: 2_000,
      periodMs: 1_000,
      timeoutMs: 3_000,
      successThreshold: 2,
      failureThreshold: 5,
    });
    // Liveness and startup probes always use a success threshold of 1.
    expect(probeSettings({ successThreshold: 3 }, 'liveness').successThreshold).toBe(1);
  });

  it('starts readiness and startup as failing, liveness as passing', () => {
    expect(initialProbeState('readiness').result).toBe(false);
    expect(initialProbeState('startup').result).toBe(false);
    expect(initialProbeState('liveness').result).toBe(true);
  });

  it('turns ready only after successThreshold consecutive successes', () => {
    expect(
      run(initialProbeState('readiness'), [true, false, true, true, true], {
        successThreshold: 2,
        failureThreshold: 3,
      }),
    ).toEqual([false, false, false, true, true]);
  });

  it('fails only after failureThreshold consecutive failures; a success resets the streak', () => {
    expect(
      run(initialProbeState('liveness'), [false, false, true, false, false, false, true], {
        successThreshold: 1,
        failureThreshold: 3,
      }),
    ).toEqual([true, true, true, true, true, false, true]);
  });
});
