import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CoordinationV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminKubeConfig } from '../env/kube/accounts.ts';
import { required } from '../env/test-environment.ts';
import { waitUntil } from '../env/wait.ts';
import { EVERY_STAGE, FINAL_GENERATIONS, MigrationFixture, positionOf } from './support/migration-fixture.ts';
import {
  OPERATOR_NAMESPACE,
  OperatorProcess,
  giveLeaseToAnother,
  operatorKubeconfig,
} from '../support/operator-process.ts';

/** Short, so that a handover fits a test; the operator renews every max(1 s, duration / 5). */
const LEASE_MS = 3_000;
const RENEW_MS = 1_000;

// Two replicas of the operator on one Lease, as a Deployment with replicas: 2 runs them.
describe('two operator replicas', () => {
  const kube = required('kube');
  const suffix = Date.now().toString(36);
  const fixture = new MigrationFixture(kube, required('sqs'), required('redis').streams, `qm-lead-${suffix}`);
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'qs-leadership-'));
  const leaseName = `lead-${suffix}`;
  const replica = (name: string): OperatorProcess =>
    new OperatorProcess({
      kubeconfig: path.join(workDir, 'kubeconfig'),
      podName: `${name}-${suffix}`,
      watchNamespace: fixture.namespace,
      leaseName,
      leaseDuration: `${String(LEASE_MS)}ms`,
      logFile: path.join(workDir, `${name}.log`),
    });
  const first = replica('first');
  const second = replica('second');
  const leases = adminKubeConfig(kube).makeApiClient(CoordinationV1Api);
  const holder = async (): Promise<string | undefined> =>
    (await leases.readNamespacedLease({ name: leaseName, namespace: OPERATOR_NAMESPACE })).spec
      ?.holderIdentity;

  beforeAll(async () => {
    await operatorKubeconfig(kube, fixture.tools, first.options.kubeconfig);
    await fixture.setUp();
    await first.start();
    await waitUntil(async () => (await holder()) === first.options.podName, {
      what: 'the first replica to take the lease',
    });
    await second.start();
  });

  afterAll(async () => {
    await Promise.all([first.stop(), second.stop()]);
    await fixture.tearDown();
    await leases
      .deleteNamespacedLease({ name: leaseName, namespace: OPERATOR_NAMESPACE })
      .catch(() => undefined);
    process.stderr.write(`[operator-leadership] logs: ${workDir}\n`);
  });

  it('lets only the leader act; killed, it hands over within the lease time and the follower finishes', async () => {
    await fixture.startMigration();
    await waitUntil(async () => positionOf((await fixture.migration()).status) === 'canary/0', {
      what: 'the migration to reach canary under the first replica',
      timeoutMs: 90_000,
    });

    // The follower has not reconciled anything, so it sent no write; everything is the leader's.
    expect(await holder()).toBe(first.options.podName);
    expect(await first.metric('queueshift_operator_leader')).toBe(1);
    expect(await second.metric('queueshift_operator_leader')).toBe(0);
    for (const result of ['success', 'error', 'terminal']) {
      expect(await second.metric(`queueshift_operator_reconciles_total{result="${result}"}`)).toBe(0);
    }
    const { uid } = (await fixture.migration()).metadata;
    const beforeKill = await fixture.events(uid);
    expect(new Set(beforeKill.map((e) => e.reportingInstance))).toEqual(new Set([first.options.podName]));

    await first.kill('SIGKILL');
    const killedAt = Date.now();
    await waitUntil(async () => (await holder()) === second.options.podName, {
      what: 'the second replica to take the lease over',
      timeoutMs: 4 * LEASE_MS,
      intervalMs: 50,
    });
    const handoverMs = Date.now() - killedAt;
    process.stderr.write(`[operator-leadership] handover ${String(handoverMs)} ms after SIGKILL\n`);
    // The lease expires a lease duration after the follower last saw it renewed; the follower sees
    // a renewal and the expiry each at its next poll, so at most two renew intervals add to that.
    expect(handoverMs).toBeLessThanOrEqual(LEASE_MS + 2 * RENEW_MS);
    expect(await second.metric('queueshift_operator_leader')).toBe(1);

    await waitUntil(async () => positionOf((await fixture.migration()).status) === 'Succeeded', {
      what: 'the second replica to finish the migration',
      timeoutMs: 90_000,
    });
    const history = (await fixture.migration()).status?.history ?? [];
    expect(history.map((h) => h.reason)).toEqual(EVERY_STAGE);
    const events = await fixture.events(uid);
    expect(events.map((e) => [e.reason, e.count])).toEqual(history.map((h) => [h.reason, 1]));
    // The first replica recorded what happened before the kill, the second what happened after.
    const instances = events.map((e) => e.reportingInstance);
    const handedOver = instances.indexOf(second.options.podName);
    expect(handedOver).toBeGreaterThanOrEqual(beforeKill.length);
    expect(instances).toEqual([
      ...instances.slice(0, handedOver).map(() => first.options.podName),
      ...instances.slice(handedOver).map(() => second.options.podName),
    ]);
    expect(await fixture.generations()).toEqual(FINAL_GENERATIONS);
  });

  it('leads again after another holder took its lease (an API server outage does that) and reconciles again', async () => {
    const reconciled = (): Promise<number> =>
      second.metric('queueshift_operator_reconciles_total{result="success"}');
    await giveLeaseToAnother(fixture.tools, leaseName);
    await waitUntil(async () => (await second.metric('queueshift_operator_leader')) === 0, {
      what: 'the replica to step down',
      timeoutMs: 4 * LEASE_MS,
      intervalMs: 100,
    });
    const before = await reconciled();
    // The other holder never renews: the lease expires and the replica takes it again.
    await waitUntil(async () => (await holder()) === second.options.podName, {
      what: 'the replica to take its lease back',
      timeoutMs: 4 * LEASE_MS,
      intervalMs: 100,
    });
    // Leading again, it lists every migration and reconciles them: its workers must be running.
    await waitUntil(async () => (await reconciled()) > before, {
      what: 'a reconcile in the second term as leader',
      timeoutMs: 15_000,
    });
    expect(await second.metric('queueshift_operator_leader')).toBe(1);
  });
});
