import type { V1Pod, V1Volume } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import {
  formatMap,
  renderVolume,
  tokenKey,
  volumeKind,
  volumeNeeds,
  type VolumeData,
} from '../../env/local-node/volume-content.ts';

const pod: V1Pod = {
  metadata: { name: 'web-1', namespace: 'shop', uid: 'u1', labels: { app: 'web', tier: 'front' } },
  spec: { containers: [] },
};
const data: VolumeData = {
  secrets: new Map([['tls', { 'tls.crt': Buffer.from('CERT'), 'tls.key': Buffer.from('KEY') }]]),
  configMaps: new Map([['kube-root-ca.crt', { 'ca.crt': Buffer.from('CA') }]]),
  tokens: new Map([[tokenKey({ audience: '', expirationSeconds: 3607 }), 'jwt']]),
};
const text = (result: ReturnType<typeof renderVolume>): Record<string, [string, string]> => {
  if (!result.ok) throw new Error(result.message);
  return Object.fromEntries([...result.files].map(([p, f]) => [p, [f.data.toString(), f.mode.toString(8)]]));
};

/** The projected volume the ServiceAccount admission plugin adds to every pod. */
const serviceAccountVolume: V1Volume = {
  name: 'kube-api-access-x',
  projected: {
    defaultMode: 420,
    sources: [
      { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
      { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
      {
        downwardAPI: {
          items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }],
        },
      },
    ],
  },
};

describe('volume contents', () => {
  it('renders the service-account volume: token, cluster CA and namespace', () => {
    expect(text(renderVolume(serviceAccountVolume, pod, data))).toEqual({
      token: ['jwt', '644'],
      'ca.crt': ['CA', '644'],
      namespace: ['shop', '644'],
    });
    const needs = volumeNeeds([serviceAccountVolume]);
    expect([...needs.configMaps]).toEqual(['kube-root-ca.crt']);
    expect([...needs.tokens.values()]).toEqual([{ audience: '', expirationSeconds: 3607 }]);
  });

  it('renders a Secret with items, per-item modes and defaultMode', () => {
    const volume: V1Volume = {
      name: 'certs',
      secret: {
        secretName: 'tls',
        defaultMode: 0o400,
        items: [
          { key: 'tls.crt', path: 'certs/server.crt', mode: 0o444 },
          { key: 'tls.key', path: 'server.key' },
        ],
      },
    };
    expect(text(renderVolume(volume, pod, data))).toEqual({
      'certs/server.crt': ['CERT', '444'],
      'server.key': ['KEY', '400'],
    });
  });

  it('renders every key when no items are given', () => {
    expect(Object.keys(text(renderVolume({ name: 'v', secret: { secretName: 'tls' } }, pod, data)))).toEqual([
      'tls.crt',
      'tls.key',
    ]);
  });

  it.each([
    [{ name: 'v', secret: { secretName: 'nope' } }, 'secret "nope" not found'],
    [{ name: 'v', configMap: { name: 'nope' } }, 'configmap "nope" not found'],
    [
      { name: 'v', secret: { secretName: 'tls', items: [{ key: 'ca', path: 'ca' }] } },
      'secret references non-existent secret key: ca',
    ],
    [
      { name: 'v', secret: { secretName: 'tls', items: [{ key: 'tls.key', path: '../escape' }] } },
      'invalid volume path "../escape"',
    ],
  ])('fails a volume that cannot be built: %j', (volume, message) => {
    const result = renderVolume(volume, pod, data);
    expect(result).toEqual({ ok: false, message: `MountVolume.SetUp failed for volume "v": ${message}` });
  });

  it('renders an optional missing source as empty', () => {
    expect(text(renderVolume({ name: 'v', configMap: { name: 'nope', optional: true } }, pod, data))).toEqual(
      {},
    );
  });

  it('writes labels as sorted key="value" lines', () => {
    expect(formatMap(pod.metadata?.labels)).toBe('app="web"\ntier="front"');
    const volume: V1Volume = {
      name: 'info',
      downwardAPI: { items: [{ path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } }] },
    };
    expect(text(renderVolume(volume, pod, data))['labels']?.[0]).toBe('app="web"\ntier="front"');
  });

  it('tells supported volume kinds from unsupported ones', () => {
    expect(volumeKind({ name: 'a', emptyDir: {} })).toBe('emptyDir');
    expect(volumeKind({ name: 'b', hostPath: { path: '/tmp' } })).toBe('hostPath');
    expect(volumeKind(serviceAccountVolume)).toBe('files');
    expect(volumeKind({ name: 'c', persistentVolumeClaim: { claimName: 'x' } })).toEqual({
      unsupported: 'volume "c": persistentVolumeClaim volumes are not supported by the local node',
    });
  });
});
