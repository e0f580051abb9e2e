import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import {
  fieldPathValue,
  referencedSources,
  resolveContainerEnv,
  type ConfigSources,
} from '../../env/local-node/env-resolver.ts';

const pod: V1Pod = {
  metadata: {
    name: 'web-1',
    namespace: 'shop',
    uid: 'uid-1',
    labels: { app: 'web' },
    annotations: { 'example.com/team': 'payments' },
  },
  spec: { nodeName: 'local-node', serviceAccountName: 'web-sa', containers: [] },
};

const sources: ConfigSources = {
  secrets: new Map([['db', { password: 's3cret', user: 'app' }]]),
  configMaps: new Map([['settings', { LEVEL: 'debug', 'bad=key': 'x', MODE: 'fast' }]]),
};

const container = (c: Partial<V1Container>): V1Container => ({ name: 'main', ...c });

describe('container env resolution', () => {
  it('expands literals with variables defined before them and with the service variables', () => {
    const result = resolveContainerEnv(
      pod,
      container({
        env: [
          { name: 'HOST', value: 'db.local' },
          { name: 'URL', value: 'postgres://$(HOST):5432/$(LATER)' },
          { name: 'API', value: 'https://$(KUBERNETES_SERVICE_HOST)' },
          { name: 'LATER', value: 'x' },
        ],
      }),
      sources,
      { KUBERNETES_SERVICE_HOST: '127.0.0.1' },
    );
    expect(result).toEqual({
      ok: true,
      env: {
        HOST: 'db.local',
        URL: 'postgres://db.local:5432/$(LATER)',
        API: 'https://127.0.0.1',
        LATER: 'x',
      },
    });
  });

  it('reads Secret and ConfigMap keys', () => {
    const result = resolveContainerEnv(
      pod,
      container({
        env: [
          { name: 'PASSWORD', valueFrom: { secretKeyRef: { name: 'db', key: 'password' } } },
          { name: 'LEVEL', valueFrom: { configMapKeyRef: { name: 'settings', key: 'LEVEL' } } },
          { name: 'DSN', value: '$(PASSWORD)@host' },
        ],
      }),
      sources,
    );
    expect(result).toEqual({ ok: true, env: { PASSWORD: 's3cret', LEVEL: 'debug', DSN: 's3cret@host' } });
  });

  it.each([
    [{ secretKeyRef: { name: 'missing', key: 'k' } }, 'secret "missing" not found'],
    [{ secretKeyRef: { name: 'db', key: 'nope' } }, "couldn't find key nope in Secret shop/db"],
    [{ configMapKeyRef: { name: 'missing', key: 'k' } }, 'configmap "missing" not found'],
    [
      { configMapKeyRef: { name: 'settings', key: 'nope' } },
      "couldn't find key nope in ConfigMap shop/settings",
    ],
    [{ fieldRef: { fieldPath: 'spec.hostname' } }, 'unsupported fieldPath: spec.hostname'],
  ])(
    'a required reference that cannot be resolved is a CreateContainerConfigError: %j',
    (valueFrom, message) => {
      const result = resolveContainerEnv(pod, container({ env: [{ name: 'X', valueFrom }] }), sources);
      expect(result).toEqual({ ok: false, reason: 'CreateContainerConfigError', message });
    },
  );

  it('leaves out optional references that cannot be resolved', () => {
    const result = resolveContainerEnv(
      pod,
      container({
        env: [
          { name: 'A', valueFrom: { secretKeyRef: { name: 'missing', key: 'k', optional: true } } },
          { name: 'B', valueFrom: { configMapKeyRef: { name: 'settings', key: 'nope', optional: true } } },
          { name: 'C', value: 'kept' },
        ],
        envFrom: [{ secretRef: { name: 'missing', optional: true } }],
      }),
      sources,
    );
    expect(result).toEqual({ ok: true, env: { C: 'kept' } });
  });

  it('applies envFrom with prefixes first, then env overrides', () => {
    const result = resolveContainerEnv(
      pod,
      container({
        envFrom: [{ configMapRef: { name: 'settings' } }, { secretRef: { name: 'db' }, prefix: 'DB_' }],
        env: [{ name: 'MODE', value: 'slow' }],
      }),
      sources,
    );
    expect(result).toEqual({
      ok: true,
      env: { LEVEL: 'debug', MODE: 'slow', DB_password: 's3cret', DB_user: 'app' },
    });
  });

  it('fails on a required envFrom source that does not exist', () => {
    expect(
      resolveContainerEnv(pod, container({ envFrom: [{ configMapRef: { name: 'gone' } }] }), sources),
    ).toEqual({
      ok: false,
      reason: 'CreateContainerConfigError',
      message: 'configmap "gone" not found',
    });
  });

  it.each([
    ['metadata.name', 'web-1'],
    ['metadata.namespace', 'shop'],
    ['metadata.uid', 'uid-1'],
    ["metadata.labels['app']", 'web'],
    ["metadata.labels['absent']", ''],
    ["metadata.annotations['example.com/team']", 'payments'],
    ['spec.nodeName', 'local-node'],
    ['spec.serviceAccountName', 'web-sa'],
    ['status.podIP', '127.0.0.1'],
    ['status.hostIP', '127.0.0.1'],
  ])('downward API %s = %s', (fieldPath, value) => {
    expect(fieldPathValue(pod, fieldPath)).toBe(value);
  });

  it('lists the Secrets and ConfigMaps to fetch', () => {
    const names = referencedSources(
      container({
        envFrom: [{ secretRef: { name: 'a' } }, { configMapRef: { name: 'b' } }],
        env: [
          { name: 'X', valueFrom: { secretKeyRef: { name: 'c', key: 'k' } } },
          { name: 'Y', valueFrom: { configMapKeyRef: { name: 'b', key: 'k' } } },
        ],
      }),
    );
    expect([...names.secrets].sort()).toEqual(['a', 'c']);
    expect([...names.configMaps]).toEqual(['b']);
  });
});
