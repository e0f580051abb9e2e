import { setCondition } from '../stages/conditions.ts';
import type { Pass } from '../stages/pass.ts';
import { preflightStatus } from './preflight-verdict.ts';

/**
 * What holds the start of `dual` on the preflight, as "waiting for" texts: nothing once it passed
 * (pinned: it does not run again, a retry after a rollback included), the failed checks otherwise.
 * Records the checks in status.preflight and the `PreflightPassed` condition; the Event goes out
 * when the checks start failing, not on every re-check.
 */
export function preflightHolds(pass: Pass): string[] {
  const { status, spec, observations } = pass;
  if (status.preflight?.passedAt !== undefined) return [];
  const facts = observations.preflight;
  if (facts === undefined) return ['the preflight checks'];
  const result = preflightStatus(spec, facts, pass.nowIso, observations.deployments);
  status.preflight = result;
  const failures = result.checks.filter((check) => check.outcome === 'failed');
  const warnings = result.checks.filter((check) => check.outcome === 'warning');
  const wasFailing = status.conditions?.some((c) => c.type === 'PreflightPassed' && c.status === 'False');
  const failed = failures.map((check) => `${check.name}: ${check.message}`).join('; ');
  setCondition(pass, {
    type: 'PreflightPassed',
    status: failures.length === 0 ? 'True' : 'False',
    reason: failures.length === 0 ? 'ChecksPassed' : 'CheckFailed',
    message:
      failures.length === 0
        ? `${result.checks.length} check(s) passed, ${warnings.length} with a warning` +
          warnings.map((check) => `; ${check.name}: ${check.message}`).join('')
        : failed,
  });
  if (failures.length > 0 && wasFailing !== true) {
    pass.record('PreflightFailed', `nothing is patched until it passes: ${failed}`);
  }
  return failures.map((check) => `preflight ${check.name}: ${check.message}`);
}
