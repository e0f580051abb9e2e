import { describe, expect, it } from 'vitest';
import type { EnvContext } from '../../../src/cli/configuration.ts';
import { operatorSettings } from '../../../src/cli/operator-command.ts';

const NAMESPACE_FILE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';

const outsidePod: EnvContext = {
  fileExists: () => false,
  hostname: () => 'laptop',
  readFile: () => {
    throw new Error('no file outside a pod');
  },
};

const insidePod: EnvContext = {
  fileExists: (path) => path === NAMESPACE_FILE,
  hostname: () => 'operator-7d9c',
  readFile: () => 'queueshift-system\n',
};

describe('the operator’s settings from the environment', () => {
  it('has defaults a pod can run with, and takes its namespace from the service account', () => {
    const result = operatorSettings({}, insidePod);

    expect(result.ok && result.config).toMatchObject({
      operatorNamespace: 'queueshift-system',
      OPERATOR_LEASE_NAME: 'queueshift-operator',
      OPERATOR_LEASE_DURATION: 15_000,
      OPERATOR_RESYNC: 300_000,
      OPERATOR_WORKERS: 4,
      PORT: 8081,
      LOG_LEVEL: 'info',
    });
  });

  it('reads durations the way the services do, and treats blank values as unset', () => {
    const result = operatorSettings(
      {
        OPERATOR_NAMESPACE: 'ops',
        OPERATOR_LEASE_DURATION: '20s',
        OPERATOR_RESYNC: '2m',
        OPERATOR_WORKERS: '  ',
      },
      outsidePod,
    );

    expect(result.ok && result.config).toMatchObject({
      operatorNamespace: 'ops',
      OPERATOR_LEASE_DURATION: 20_000,
      OPERATOR_RESYNC: 120_000,
      OPERATOR_WORKERS: 4,
    });
  });

  it('names every bad variable with its problem, in one pass', () => {
    const result = operatorSettings(
      {
        OPERATOR_NAMESPACE: 'Not_A_Label',
        OPERATOR_LEASE_DURATION: 'soon',
        OPERATOR_WORKERS: '0',
        PORT: '70000',
        LOG_LEVEL: 'loud',
      },
      outsidePod,
    );

    expect(result.ok ? [] : result.problems).toEqual([
      { variable: 'OPERATOR_NAMESPACE', message: expect.stringContaining('DNS-1123') as string },
      { variable: 'OPERATOR_LEASE_DURATION', message: expect.stringContaining('duration') as string },
      { variable: 'OPERATOR_WORKERS', message: 'must be at least 1' },
      { variable: 'PORT', message: 'must be at most 65535' },
      { variable: 'LOG_LEVEL', message: expect.stringContaining('must be one of') as string },
    ]);
  });

  it('needs OPERATOR_NAMESPACE outside a pod, where no service account names one', () => {
    const result = operatorSettings({}, outsidePod);

    expect(result.ok ? [] : result.problems).toEqual([
      { variable: 'OPERATOR_NAMESPACE', message: 'is required outside a pod (where the lease lives)' },
    ]);
  });
});
