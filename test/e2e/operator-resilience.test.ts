import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Watch } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_GROUP, API_VERSION, PLURAL } from '../../src/operator/api/names.ts';
import { adminKubeConfig } from '../env/kube/accounts.ts';
import { required } from '../env/test-environment.ts';
import { waitUntil } from '../env/wait.ts';
import {
  EVERY_STAGE,
  FINAL_GENERATIONS,
  MigrationFixture,
  positionOf,
  type MigrationObject,
} from './support/migration-fixture.ts';
import { OperatorProcess, operatorKubeconfig } from '../support/operator-process.ts';

/**
 * Every position the operator writes to status; full/0 has the consumers still reading SQS,
 * full/1 has them on Redis alone, cleanup/1 has the producers' SQS fallback removed.
 */
const KILL_POINTS = ['dual/0', 'staging/0', 'canary/0', 'full/0', 'full/1', 'cleanup/0', 'cleanup/1'];

// The operator writes each transition to status before it patches anything and before it records
// the transition's Event. Killing it the moment a watch shows a new position lands in that window
// (or just after it), which is where a restart could repeat or lose a patch, an entry or an Event.
describe('the operator killed with SIGKILL at every stage of a migration', () => {
  const kube = required('kube');
  const suffix = Date.now().toString(36);
  const fixture = new MigrationFixture(kube, required('sqs'), required('redis').streams, `qm-kill-${suffix}`);
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'qs-resilience-'));
  const operator = new OperatorProcess({
    kubeconfig: path.join(workDir, 'kubeconfig'),
    podName: `operator-${suffix}`,
    watchNamespace: fixture.namespace,
    leaseName: `operator-${suffix}`,
    logFile: path.join(workDir, 'operator.log'),
  });

  beforeAll(async () => {
    await operatorKubeconfig(kube, fixture.tools, operator.options.kubeconfig);
    await fixture.setUp();
    await operator.start();
  });

  afterAll(async () => {
    await operator.stop();
    await fixture.tearDown();
    process.stderr.write(`[operator-resilience] log: ${operator.options.logFile}\n`);
  });

  it('records each history entry and Event once and raises each generation as the plan says', async () => {
    const pending = [...KILL_POINTS];
    const killedAt: string[] = [];
    const watch = await new Watch(adminKubeConfig(kube)).watch(
      `/apis/${API_GROUP}/${API_VERSION}/namespaces/${fixture.namespace}/${PLURAL}`,
      {},
      (_type: string, object: MigrationObject) => {
        // Synchronous: the signal leaves before this callback returns, a few ms after the write.
        if (positionOf(object.status) === pending[0] && operator.running) {
          void operator.kill('SIGKILL');
          killedAt.push(pending.shift() ?? '');
        }
      },
      () => undefined,
    );
    const interrupted: string[] = [];
    try {
      await fixture.startMigration();
      for (const point of KILL_POINTS) {
        let seen = '';
        await waitUntil(
          async () => {
            if (killedAt.includes(point)) return true;
            const { message, conflict, history } = (await fixture.migration()).status ?? {};
            seen = JSON.stringify({ message, conflict, history: history?.map((h) => h.reason) });
            return false;
          },
          {
            what: `the migration to reach ${point} (killed at ${killedAt.join(', ') || 'nothing'} so far)`,
            timeoutMs: 90_000,
            intervalMs: 250,
          },
        ).catch((error: unknown) => {
          throw new Error(`${String(error)}; status: ${seen}`);
        });
        await operator.kill('SIGKILL');
        // What the kill cut short: the Event of the transition it followed, when still missing.
        const migration = await fixture.migration();
        const latest = migration.status?.history?.at(-1);
        const events = await fixture.events(migration.metadata.uid);
        if (!events.some((e) => e.reason === latest?.reason))
          interrupted.push(`${point} before its ${latest?.reason ?? ''} Event`);
        await operator.start();
      }
      await waitUntil(async () => positionOf((await fixture.migration()).status) === 'Succeeded', {
        what: 'the migration to succeed after the last restart',
        timeoutMs: 90_000,
      });
    } finally {
      watch.abort();
      process.stderr.write(`[operator-resilience] kills interrupted: ${interrupted.join('; ') || 'none'}\n`);
    }
    expect(killedAt).toEqual(KILL_POINTS);

    const migration = await fixture.migration();
    const history = migration.status?.history ?? [];
    expect(history.map((h) => h.reason)).toEqual(EVERY_STAGE);
    expect(history.map((h) => h.seq)).toEqual(EVERY_STAGE.map((_, i) => i + 1));
    // An Event the kill cut short is recorded by the restarted operator, and never a second time.
    await waitUntil(async () => (await fixture.events(migration.metadata.uid)).length >= history.length, {
      what: 'an Event for every history entry',
      timeoutMs: 10_000,
    });
    const events = await fixture.events(migration.metadata.uid);
    expect(events.map((e) => [e.reason, e.count])).toEqual(history.map((h) => [h.reason, 1]));
    // Same figures as the uninterrupted run; the canary is gone.
    expect(await fixture.generations()).toEqual(FINAL_GENERATIONS);
  });
});
