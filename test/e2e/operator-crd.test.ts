import { beforeAll, describe, expect, it } from 'vitest';
import { CRD_NAME } from '../../src/operator/api/names.ts';
import { queueMigrationSpec } from '../../src/operator/api/spec-schema.ts';
import { useTestNamespace } from '../env/local-node/e2e-support.ts';
import { INVALID_SPECS, invalidSpec, minimalSpec } from '../unit/operator/fixtures/migrations.ts';

const CRD_FILE = 'crds/queueshift.dev_queuemigrations.yaml';

// The CRD is the API's first line of defence: what the API server refuses never reaches the
// operator, and what it defaults is what the operator reads. These run against the real server.
describe('the QueueMigration CRD on the API server', () => {
  const { name: namespace, tools } = useTestNamespace('qm-crd');

  const manifest = (name: string, spec: object): string =>
    JSON.stringify({
      apiVersion: 'queueshift.dev/v1alpha1',
      kind: 'QueueMigration',
      metadata: { name, namespace },
      spec,
    });

  /** Runs kubectl expecting a refusal; resolves to its stderr. */
  const refusal = async (args: readonly string[], input?: string): Promise<string> => {
    try {
      await tools.kubectl(args, input);
    } catch (error) {
      return String((error as { stderr?: unknown }).stderr);
    }
    throw new Error(`kubectl ${args.join(' ')} was accepted`);
  };

  beforeAll(async () => {
    await tools.kubectl(['apply', '--server-side', '--force-conflicts', '-f', CRD_FILE]);
    await tools.kubectl(['wait', '--for=condition=Established', `crd/${CRD_NAME}`, '--timeout=60s']);
  });

  it('stores a minimal migration with exactly the defaults the operator’s schema fills in', async () => {
    await tools.kubectl(['create', '-f', '-'], manifest('minimal', minimalSpec()));
    const stored = JSON.parse(
      await tools.kubectl(['get', 'qm', 'minimal', '-n', namespace, '-o', 'json']),
    ) as {
      spec: unknown;
    };
    expect(stored.spec).toEqual(queueMigrationSpec.parse(minimalSpec()));
  });

  it.each(INVALID_SPECS.map((c, i) => ({ ...c, name: `invalid-${i}` })))(
    'refuses $what, naming spec.$field',
    async (testCase) => {
      const stderr = await refusal(['create', '-f', '-'], manifest(testCase.name, invalidSpec(testCase)));
      expect(stderr).toContain(`The QueueMigration "${testCase.name}" is invalid`);
      const named = new RegExp(`spec\\.${testCase.field.replace(/[.[\]]/g, '\\$&')}(\\[\\d+\\])?: `);
      expect(stderr).toMatch(named);
    },
  );

  it('lets targets change before the start, and refuses it once status shows the migration started', async () => {
    await tools.kubectl(['create', '-f', '-'], manifest('started', minimalSpec()));
    const patch = (body: object, subresource?: string): Promise<string> =>
      tools.kubectl([
        'patch',
        'qm',
        'started',
        '-n',
        namespace,
        '--type=merge',
        `--patch=${JSON.stringify(body)}`,
        ...(subresource === undefined ? [] : [`--subresource=${subresource}`]),
      ]);
    await patch({ spec: { consumers: [{ name: 'worker', container: 'consumer' }] } });
    await patch(
      { status: { phase: 'Progressing', stage: 'dual', startedAt: new Date().toISOString() } },
      'status',
    );

    const refused = [
      { spec: { producers: [{ name: 'webhook-v2', container: 'webhook' }] }, field: 'producers' },
      { spec: { consumers: [{ name: 'worker', container: 'worker' }] }, field: 'consumers' },
      { spec: { redis: { stream: 'other-stream' } }, field: 'redis.stream' },
      {
        spec: { redis: { endpoint: { mode: 'standalone', address: 'other:6379' } } },
        field: 'redis.endpoint',
      },
      {
        spec: { sqs: { queueUrl: 'https://sqs.eu-west-1.amazonaws.com/123456789012/other' } },
        field: 'sqs.queueUrl',
      },
    ];
    for (const { spec, field } of refused) {
      const stderr = await refusal([
        'patch',
        'qm',
        'started',
        '-n',
        namespace,
        '--type=merge',
        `--patch=${JSON.stringify({ spec })}`,
      ]);
      expect(stderr).toContain(
        `spec.${field}: Forbidden: spec.${field} cannot change once the migration has started`,
      );
    }
    // Controls and timings stay editable mid-migration.
    await patch({ spec: { paused: true, stages: { dual: { duration: '1m' } } } });
    const stored = JSON.parse(
      await tools.kubectl(['get', 'qm', 'started', '-n', namespace, '-o', 'json']),
    ) as {
      spec: { paused: boolean; consumers: unknown };
    };
    expect(stored.spec.paused).toBe(true);
    expect(stored.spec.consumers).toEqual([{ name: 'worker', container: 'consumer' }]);
  });

  it('shows stage, phase, backlog, error rate and age in `kubectl get qm`, and the message with -o wide', async () => {
    await tools.kubectl(['create', '-f', '-'], manifest('columns', minimalSpec()));
    const status = {
      phase: 'Progressing',
      stage: 'canary',
      step: 1,
      backlog: 12,
      errorRate: '0.4%',
      message: 'canary step 2 of 2',
    };
    await tools.kubectl([
      'patch',
      'qm',
      'columns',
      '-n',
      namespace,
      '--subresource=status',
      '--type=merge',
      `--patch=${JSON.stringify({ status })}`,
    ]);
    const table = (await tools.kubectl(['get', 'qm', 'columns', '-n', namespace])).trim().split('\n');
    expect(table[0]?.split(/\s{2,}/)).toEqual(['NAME', 'STAGE', 'PHASE', 'BACKLOG', 'ERROR RATE', 'AGE']);
    expect(table[1]?.split(/\s{2,}/).slice(0, 5)).toEqual(['columns', 'canary', 'Progressing', '12', '0.4%']);
    const wide = (await tools.kubectl(['get', 'queuemigrations', 'columns', '-n', namespace, '-o', 'wide']))
      .trim()
      .split('\n');
    expect(wide[0]?.split(/\s{2,}/).at(-1)).toBe('MESSAGE');
    expect(wide[1]).toMatch(/canary step 2 of 2$/);
  });

  it('explains the fields with the schema’s descriptions', async () => {
    const explained = await tools.kubectl(['explain', 'qm.spec.stages.canary.steps.weight']);
    expect(explained).toMatch(/Share of producer pods, in percent/);
    const endpoint = await tools.kubectl(['explain', 'qm.spec.redis.endpoint.mode']);
    expect(endpoint).toMatch(/ENUM:\s+standalone\s+sentinel\s+DESCRIPTION:\s+`standalone`: One Redis server/);
  });
});
