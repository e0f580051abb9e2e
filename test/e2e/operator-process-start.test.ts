import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { OperatorProcess } from '../support/operator-process.ts';

// A test that cannot start its operator must say why at once: the exit status and the end of the
// operator's own log, not a bare timeout after the budget.
describe('OperatorProcess.start when the operator does not become ready', () => {
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'qs-operator-start-'));
  let operator: OperatorProcess | undefined;

  afterEach(async () => {
    await operator?.stop();
  });

  /** A replica whose kubeconfig does not exist: its configuration cannot load. */
  function misconfigured(readyWithinMs?: number): OperatorProcess {
    return new OperatorProcess({
      kubeconfig: path.join(workDir, 'missing-kubeconfig'),
      podName: 'operator-start',
      watchNamespace: 'nowhere',
      leaseName: 'operator-start',
      logFile: path.join(workDir, 'operator.log'),
      ...(readyWithinMs !== undefined && { readyWithinMs }),
    });
  }

  it('rejects as soon as the process exits, with its exit status and last log lines', async () => {
    operator = misconfigured();
    const started = Date.now();
    const failure = await operator.start().catch((error: unknown) => error);
    // Well inside the 90 s budget: the exit ended the wait, not the timeout.
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(String(failure)).toMatch(
      /^Error: OPERATOR_NOT_READY: operator operator-start did not become ready \(exited with code [1-9]\d*;/,
    );
    expect(String(failure)).toContain(`--- last lines of ${path.join(workDir, 'operator.log')} ---`);
    expect(String(failure)).toContain('missing-kubeconfig');
  });

  it('names a process still running when the budget runs out', async () => {
    operator = misconfigured(1);
    const failure = await operator.start().catch((error: unknown) => error);
    expect(String(failure)).toMatch(
      /did not become ready \(still running; budget 1 ms\): timed out after 1 ms waiting for operator operator-start to answer \/readyz/,
    );
    expect(String(failure)).toContain('--- last lines of');
  });
});
