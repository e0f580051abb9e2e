import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { deploymentName } from '../../env/local-node/owner.ts';
import { scrapeTargetGroups, targetFile, writeTargetFile } from '../../env/local-node/scrape-targets.ts';

const rsPod = (owner: string, hash?: string, annotations: Record<string, string> = {}): V1Pod => ({
  metadata: {
    name: `${owner}-abcde`,
    namespace: 'shop',
    labels: hash ? { 'pod-template-hash': hash } : {},
    annotations,
    ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: owner, uid: 'u', controller: true }],
  },
  spec: {
    containers: [{ name: 'app', ports: [{ containerPort: 9090 }] }, { name: 'sidecar' }],
  },
});

describe('deployment name from owner references', () => {
  it.each([
    ['web-6d4cf56db6', '6d4cf56db6', 'web'],
    ['my-web-app-6d4cf56db6', '6d4cf56db6', 'my-web-app'],
    ['my-web-app-6d4cf56db6', undefined, 'my-web-app'],
  ])('%s (hash %s) → %s', (owner, hash, expected) => {
    expect(deploymentName(rsPod(owner, hash))).toBe(expected);
  });

  it('is undefined for a pod no ReplicaSet owns', () => {
    expect(deploymentName({ metadata: { name: 'solo' } })).toBeUndefined();
  });
});

describe('scrape targets', () => {
  const ports = { app: 41000, sidecar: 41001 };

  it('points every container at 127.0.0.1 and its port, labelled for queries', () => {
    expect(scrapeTargetGroups(rsPod('web-abc', 'abc'), ports)).toEqual([
      {
        targets: ['127.0.0.1:41000'],
        labels: {
          namespace: 'shop',
          pod: 'web-abc-abcde',
          deployment: 'web',
          container: 'app',
          __metrics_path__: '/metrics',
        },
      },
      {
        targets: ['127.0.0.1:41001'],
        labels: {
          namespace: 'shop',
          pod: 'web-abc-abcde',
          deployment: 'web',
          container: 'sidecar',
          __metrics_path__: '/metrics',
        },
      },
    ]);
  });

  it('honours prometheus.io/path, /port and /scrape', () => {
    const groups = scrapeTargetGroups(
      rsPod('web-abc', 'abc', { 'prometheus.io/path': '/stats', 'prometheus.io/port': '9090' }),
      ports,
    );
    expect(groups).toHaveLength(1);
    expect(groups[0]?.labels['__metrics_path__']).toBe('/stats');
    expect(groups[0]?.targets).toEqual(['127.0.0.1:41000']);
    expect(scrapeTargetGroups(rsPod('web-abc', 'abc', { 'prometheus.io/scrape': 'false' }), ports)).toEqual(
      [],
    );
  });

  it('writes atomically and removes the file when there is nothing to scrape', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qs-targets-'));
    const file = targetFile(dir, 'shop', 'web-1');
    expect(file).toBe(path.join(dir, 'shop_web-1.json'));
    writeTargetFile(file, [{ targets: ['127.0.0.1:1'], labels: {} }]);
    expect(JSON.parse(fs.readFileSync(file, 'utf8'))).toEqual([{ targets: ['127.0.0.1:1'], labels: {} }]);
    expect(fs.readdirSync(dir)).toEqual(['shop_web-1.json']);
    writeTargetFile(file, []);
    expect(fs.readdirSync(dir)).toEqual([]);
    fs.rmSync(dir, { recursive: true });
  });
});
