import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { inClusterCredentials } from '../../../../src/operator/kube/in-cluster-credentials.ts';
import { ManualClock } from '../../../support/manual-clock.ts';

let accountDir: string;

beforeEach(() => {
  accountDir = fs.mkdtempSync(path.join(os.tmpdir(), 'qs-serviceaccount-'));
  fs.writeFileSync(path.join(accountDir, 'token'), 'sa-token\n');
  fs.writeFileSync(path.join(accountDir, 'ca.crt'), 'CLUSTER CA');
});

afterEach(() => {
  fs.rmSync(accountDir, { recursive: true, force: true });
});

describe('in-cluster credentials', () => {
  it.each([
    { host: '10.96.0.1', server: 'https://10.96.0.1:6443/' },
    { host: 'fd00:10:96::1', server: 'https://[fd00:10:96::1]:6443/' },
  ])('reach $host with the pod’s ServiceAccount token and the cluster CA', async ({ host, server }) => {
    const credentials = inClusterCredentials({ host, port: '6443', accountDir }, new ManualClock());
    expect(credentials.server.href).toBe(server);
    expect((await credentials.tls()).ca?.toString('utf8')).toBe('CLUSTER CA');
    expect(await credentials.authorization()).toBe('Bearer sa-token');
  });

  it.each([
    { host: undefined, port: '443' },
    { host: '10.96.0.1', port: undefined },
  ])('refuse to start outside a pod (host $host, port $port)', ({ host, port }) => {
    expect(() => inClusterCredentials({ host, port, accountDir }, new ManualClock())).toThrow(
      'KUBE_CREDENTIALS_NOT_IN_CLUSTER',
    );
  });

  it('refuse to start without a token, naming the file', () => {
    fs.rmSync(path.join(accountDir, 'token'));
    expect(() =>
      inClusterCredentials({ host: '10.96.0.1', port: '443', accountDir }, new ManualClock()),
    ).toThrow(`KUBE_CREDENTIALS_UNREADABLE: cannot read token file ${path.join(accountDir, 'token')}`);
  });
});
