import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import type { V1Pod, V1Volume } from '@kubernetes/client-node';
import { fingerprint, writeVolumeAtomically } from './atomic-writer.ts';
import { errorMessage, readOrUndefined, type KubeClients } from './kube-client.ts';
import {
  renderVolume,
  tokenKey,
  volumeKind,
  volumeNeeds,
  type TokenSpec,
  type VolumeData,
} from './volume-content.ts';

export type VolumeSync = { ok: true } | { ok: false; message: string };

interface CachedToken {
  token: string;
  /** When the kubelet would refresh it: 80 % of its lifetime (or after 24 h). */
  refreshAt: number;
}

/**
 * A pod's volumes, materialised under `<podDir>/volumes/<name>`: Secret, ConfigMap, downwardAPI and
 * projected volumes (service-account tokens from the TokenRequest API) are rendered and written
 * atomically; emptyDir is a folder; hostPath is the host's own path. `sync` runs before the
 * containers start and then periodically, so updated Secrets and ConfigMaps and refreshed tokens
 * reach running containers as they would on a kubelet.
 */
export class PodVolumes {
  private readonly pod: () => V1Pod;
  private readonly root: string;
  private readonly clients: KubeClients;
  private readonly log: Logger;
  private readonly tokens = new Map<string, CachedToken>();
  private readonly written = new Map<string, string>();

  constructor(pod: () => V1Pod, podDir: string, clients: KubeClients, log: Logger) {
    this.pod = pod;
    this.root = path.join(podDir, 'volumes');
    this.clients = clients;
    this.log = log;
  }

  private volumes(): V1Volume[] {
    return this.pod().spec?.volumes ?? [];
  }

  /** Where volume `name` is on the host. */
  dir(name: string): string {
    const volume = this.volumes().find((v) => v.name === name);
    if (volume?.hostPath) return volume.hostPath.path;
    return path.join(this.root, name);
  }

  async sync(): Promise<VolumeSync> {
    const volumes = this.volumes();
    for (const volume of volumes) {
      const kind = volumeKind(volume);
      if (typeof kind === 'object') return { ok: false, message: kind.unsupported };
    }
    let data: VolumeData;
    try {
      data = await this.fetch(volumes);
    } catch (error) {
      return { ok: false, message: `MountVolume.SetUp failed: ${errorMessage(error)}` };
    }
    const pod = this.pod();
    for (const volume of volumes) {
      const kind = volumeKind(volume);
      if (kind === 'emptyDir') {
        fs.mkdirSync(this.dir(volume.name), { recursive: true, mode: 0o777 });
      } else if (kind === 'hostPath') {
        const type = volume.hostPath?.type ?? '';
        if ((type === '' || type === 'DirectoryOrCreate') && !fs.existsSync(this.dir(volume.name))) {
          fs.mkdirSync(this.dir(volume.name), { recursive: true });
        }
      } else if (kind === 'files') {
        const rendered = renderVolume(volume, pod, data);
        if (!rendered.ok) return rendered;
        const digest = fingerprint(rendered.files);
        if (this.written.get(volume.name) !== digest) {
          writeVolumeAtomically(this.dir(volume.name), rendered.files);
          this.written.set(volume.name, digest);
        }
      }
    }
    return { ok: true };
  }

  /** Removes the materialised volumes (never a hostPath). */
  cleanup(): void {
    fs.rmSync(this.root, { recursive: true, force: true });
  }

  private async fetch(volumes: readonly V1Volume[]): Promise<VolumeData> {
    const needs = volumeNeeds(volumes);
    const namespace = this.pod().metadata?.namespace ?? 'default';
    const { core } = this.clients;
    const secrets = new Map<string, Record<string, Buffer> | undefined>();
    const configMaps = new Map<string, Record<string, Buffer> | undefined>();
    await Promise.all([
      ...[...needs.secrets].map(async (name) => {
        const secret = await readOrUndefined(() => core.readNamespacedSecret({ name, namespace }));
        secrets.set(
          name,
          secret &&
            Object.fromEntries(
              Object.entries(secret.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')]),
            ),
        );
      }),
      ...[...needs.configMaps].map(async (name) => {
        const configMap = await readOrUndefined(() => core.readNamespacedConfigMap({ name, namespace }));
        configMaps.set(
          name,
          configMap && {
            ...Object.fromEntries(
              Object.entries(configMap.binaryData ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')]),
            ),
            ...Object.fromEntries(Object.entries(configMap.data ?? {}).map(([k, v]) => [k, Buffer.from(v)])),
          },
        );
      }),
    ]);
    const tokens = new Map<string, string>();
    for (const [key, spec] of needs.tokens) tokens.set(key, await this.token(spec));
    return { secrets, configMaps, tokens };
  }

  private async token(spec: TokenSpec): Promise<string> {
    const key = tokenKey(spec);
    const cached = this.tokens.get(key);
    if (cached && Date.now() < cached.refreshAt) return cached.token;
    const pod = this.pod();
    const response = await this.clients.core.createNamespacedServiceAccountToken({
      name: pod.spec?.serviceAccountName ?? 'default',
      namespace: pod.metadata?.namespace ?? 'default',
      body: {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenRequest',
        spec: {
          audiences: spec.audience === '' ? [] : [spec.audience],
          expirationSeconds: spec.expirationSeconds,
          boundObjectRef: {
            apiVersion: 'v1',
            kind: 'Pod',
            name: pod.metadata?.name ?? '',
            uid: pod.metadata?.uid ?? '',
          },
        },
      },
    });
    const token = response.status?.token;
    if (token === undefined) throw new Error('the TokenRequest API returned no token');
    const lifetimeMs = spec.expirationSeconds * 1000;
    const refreshAt = Date.now() + Math.min(lifetimeMs * 0.8, 24 * 3600 * 1000);
    this.tokens.set(key, { token, refreshAt });
    this.log.debug({ audience: spec.audience }, 'service account token issued');
    return token;
  }
}
