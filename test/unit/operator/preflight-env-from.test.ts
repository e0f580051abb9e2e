import { describe, expect, it } from 'vitest';
import { queueMigrationSpec } from '../../../src/operator/api/spec-schema.ts';
import type { PreflightCheck } from '../../../src/operator/api/status-schema.ts';
import { ENV_FROM_CHECK, STORE_LOCATION_CHECK } from '../../../src/operator/preflight/env-from-sources.ts';
import { preflightChecks, preflightStatus } from '../../../src/operator/preflight/preflight-verdict.ts';
import type {
  DeploymentObservation,
  EnvEntry,
  EnvFromSource,
} from '../../../src/operator/stages/observations.ts';
import { minimalSpec } from './fixtures/migrations.ts';
import { PASSING_PREFLIGHT } from './preflight-fixtures.ts';
import { observed, SQS_ENV } from './stages/simulated-deployments.ts';

// minimalSpec: producer Deployment `webhook` (container `webhook`), consumer `worker` (container `worker`).
const spec = queueMigrationSpec.parse(minimalSpec());

function withEnvFrom(
  name: string,
  envFrom: readonly EnvFromSource[],
  env: readonly EnvEntry[] = SQS_ENV,
): DeploymentObservation {
  const deployment = observed(name, structuredClone(SQS_ENV));
  return { ...deployment, container: { env, volumeMounts: [], envFrom } };
}

/** The consumer's idempotency store located in env, as the store-location check asks. */
const STORE_IN_ENV: EnvEntry[] = [
  ...SQS_ENV,
  { name: 'IDEMPOTENCY_REDIS_ADDRESS', value: 'idempotency:6379' },
];

const settings: EnvFromSource = { kind: 'ConfigMap', name: 'queue-settings' };

/** The envFrom check of a preflight over these Deployments, or undefined when there is none. */
function envFromCheckOf(deployments: readonly DeploymentObservation[]): PreflightCheck | undefined {
  const observedDeployments = new Map(deployments.map((d) => [d.name, d]));
  return preflightChecks(spec, PASSING_PREFLIGHT, observedDeployments).find((c) => c.name === ENV_FROM_CHECK);
}

describe('the preflight on queue settings that may come through envFrom', () => {
  it.each<{ what: string; deployments: DeploymentObservation[]; says: RegExp[] }>([
    {
      what: 'a consumer’s ConfigMap is named with the Deployment and container, and unread',
      deployments: [withEnvFrom('worker', [settings])],
      says: [
        /^consumer worker\/worker takes envFrom ConfigMap queue-settings: /,
        /overridden by its env entries while the migration runs, but cleanup removes only env entries/,
        /SQS_QUEUE_URL and the other SQS settings that come from there stay in the pods/,
        /Whether they hold any is unknown: the operator may not read ConfigMaps$/,
      ],
    },
    {
      what: 'a producer’s Secret is named, and said to be never read',
      deployments: [withEnvFrom('webhook', [{ kind: 'Secret', name: 'aws', prefix: 'SQS_' }])],
      says: [
        /^producer webhook\/webhook takes envFrom Secret aws \(prefix SQS_\): /,
        /unknown: the operator never reads Secrets taken through envFrom$/,
      ],
    },
    {
      what: 'every container with sources is listed in one warning, in spec order',
      deployments: [
        withEnvFrom('worker', [settings, { kind: 'Secret', name: 'redis' }]),
        withEnvFrom('webhook', [settings]),
      ],
      says: [
        /^producer webhook\/webhook takes envFrom ConfigMap queue-settings; consumer worker\/worker takes envFrom ConfigMap queue-settings, Secret redis: /,
        /the operator may not read ConfigMaps and never reads Secrets taken through envFrom$/,
      ],
    },
    {
      what: 'a prefix that yields a managed variable only for consumers counts for a consumer',
      deployments: [withEnvFrom('worker', [{ kind: 'ConfigMap', name: 'store', prefix: 'IDEMPOTENCY_' }])],
      says: [/^consumer worker\/worker takes envFrom ConfigMap store \(prefix IDEMPOTENCY_\)/],
    },
  ])('warns: $what', ({ deployments, says }) => {
    const check = envFromCheckOf(deployments);
    expect(check?.outcome).toBe('warning');
    for (const pattern of says) expect(check?.message).toMatch(pattern);
  });

  it.each<{ what: string; deployments: DeploymentObservation[] }>([
    {
      what: 'no container takes envFrom',
      deployments: [observed('webhook', SQS_ENV), observed('worker', SQS_ENV)],
    },
    {
      what: 'every prefix rules out a managed variable',
      deployments: [
        withEnvFrom('worker', [{ kind: 'ConfigMap', name: 'db', prefix: 'DB_' }]),
        withEnvFrom('webhook', [{ kind: 'Secret', name: 'github', prefix: 'GITHUB_' }]),
      ],
    },
    {
      // The operator manages no IDEMPOTENCY_REDIS_* variable of a producer.
      what: 'a prefix yields managed variables of consumers only, on a producer',
      deployments: [withEnvFrom('webhook', [{ kind: 'ConfigMap', name: 'store', prefix: 'IDEMPOTENCY_' }])],
    },
    {
      what: 'the Deployment with sources is not one the migration names',
      deployments: [withEnvFrom('billing', [settings])],
    },
  ])('has no envFrom check when $what', ({ deployments }) => {
    expect(envFromCheckOf(deployments)).toBeUndefined();
  });

  it('is a warning only: a preflight whose sole finding it is passes', () => {
    const status = preflightStatus(
      spec,
      PASSING_PREFLIGHT,
      '2026-11-26T10:00:00.000Z',
      new Map([['worker', withEnvFrom('worker', [settings], STORE_IN_ENV)]]),
    );
    expect(status.passedAt).toBe('2026-11-26T10:00:00.000Z');
    expect(status.checks.filter((c) => c.outcome !== 'ok').map((c) => c.name)).toEqual([ENV_FROM_CHECK]);
  });

  it('keeps its message within the status bound, counting the containers it leaves out', () => {
    const targets = Array.from({ length: 10 }, (_, i) => ({
      name: `worker-with-a-long-deployment-name-${i}`,
      container: `container-with-a-long-name-${i}`,
    }));
    const many = queueMigrationSpec.parse({ ...minimalSpec(), consumers: targets });
    const sources: EnvFromSource[] = [
      settings,
      { kind: 'Secret', name: 'another-long-secret-name', prefix: 'REDIS_' },
    ];
    const deployments = new Map(targets.map((t) => [t.name, withEnvFrom(t.name, sources)]));
    const check = preflightChecks(many, PASSING_PREFLIGHT, deployments).find(
      (c) => c.name === ENV_FROM_CHECK,
    );
    expect(check?.message.length).toBeLessThanOrEqual(1_024);
    expect(check?.message).toMatch(
      /^consumer worker-with-a-long-deployment-name-0\/container-with-a-long-name-0 takes/,
    );
    expect(check?.message).toMatch(/; and \d+ more container\(s\): a variable the operator sets/);
  });
});

describe('the preflight on where a consumer’s idempotency store is located', () => {
  const storeCheckOf = (worker: DeploymentObservation): PreflightCheck | undefined =>
    preflightChecks(spec, PASSING_PREFLIGHT, new Map([['worker', worker]])).find(
      (c) => c.name === STORE_LOCATION_CHECK,
    );
  const withRedisAddress: EnvEntry[] = [...SQS_ENV, { name: 'REDIS_ADDRESS', value: 'idempotency:6379' }];

  it.each<{ what: string; worker: DeploymentObservation }>([
    { what: 'env locates no store and a source may', worker: withEnvFrom('worker', [settings]) },
    {
      // The operator would pin IDEMPOTENCY_REDIS_* from env's REDIS_*, over the source's own.
      what: 'env has REDIS_ADDRESS but a source may set IDEMPOTENCY_REDIS_ADDRESS',
      worker: withEnvFrom('worker', [{ ...settings, prefix: 'IDEMPOTENCY_' }], withRedisAddress),
    },
    {
      what: 'a Sentinel store may come from a prefixed source',
      worker: withEnvFrom('worker', [{ kind: 'Secret', name: 'redis', prefix: 'REDIS_SENTINEL_' }]),
    },
  ])('refuses to start when $what', ({ worker }) => {
    const check = storeCheckOf(worker);
    expect(check?.outcome).toBe('failed');
    expect(check?.message).toMatch(
      /^the idempotency store of consumer worker\/worker may be located through envFrom/,
    );
    expect(check?.message).toMatch(
      /Set IDEMPOTENCY_REDIS_ADDRESS and the store's other settings in the container's env/,
    );
  });

  it.each<{ what: string; worker: DeploymentObservation }>([
    { what: 'env has the store’s own address', worker: withEnvFrom('worker', [settings], STORE_IN_ENV) },
    {
      what: 'env has REDIS_ADDRESS and no source may set the store’s own variables',
      worker: withEnvFrom('worker', [{ ...settings, prefix: 'REDIS_' }], withRedisAddress),
    },
    { what: 'no source may locate a store', worker: withEnvFrom('worker', [{ ...settings, prefix: 'DB_' }]) },
    { what: 'the consumer takes no envFrom', worker: observed('worker', SQS_ENV) },
  ])('has no store-location check when $what', ({ worker }) => {
    expect(storeCheckOf(worker)).toBeUndefined();
  });

  it('never judges a producer: its store is not the migration’s concern', () => {
    const checks = preflightChecks(
      spec,
      PASSING_PREFLIGHT,
      new Map([['webhook', withEnvFrom('webhook', [settings])]]),
    );
    expect(checks.map((c) => c.name)).not.toContain(STORE_LOCATION_CHECK);
  });
});
