import type { V1DownwardAPIVolumeFile, V1KeyToPath, V1Pod, V1Volume } from '@kubernetes/client-node';
import { fieldPathValue } from './env-resolver.ts';

/** One file of a rendered volume, at a relative path inside the volume. */
export interface VolumeFile {
  data: Buffer;
  /** Permission bits (the API's decimal int, e.g. 420 = 0644). */
  mode: number;
}

/** Raw bytes of the Secrets and ConfigMaps a volume uses; `undefined` = not found. */
export interface VolumeData {
  secrets: ReadonlyMap<string, Readonly<Record<string, Buffer>> | undefined>;
  configMaps: ReadonlyMap<string, Readonly<Record<string, Buffer>> | undefined>;
  /** Service-account tokens by `tokenKey(...)`. */
  tokens: ReadonlyMap<string, string>;
}

export interface TokenSpec {
  audience: string;
  expirationSeconds: number;
}

export interface VolumeNeeds {
  secrets: Set<string>;
  configMaps: Set<string>;
  tokens: Map<string, TokenSpec>;
}

export type VolumeKind = 'files' | 'emptyDir' | 'hostPath';

export type RenderResult = { ok: true; files: Map<string, VolumeFile> } | { ok: false; message: string };

const DEFAULT_MODE = 0o644;
/** The kubelet asks for at least 10 minutes and defaults to one hour. */
const DEFAULT_TOKEN_SECONDS = 3600;

export function tokenKey(spec: TokenSpec): string {
  return `${spec.audience}|${spec.expirationSeconds}`;
}

/** How the local node provides a volume, or why it cannot. */
export function volumeKind(volume: V1Volume): VolumeKind | { unsupported: string } {
  if (volume.secret || volume.configMap || volume.projected || volume.downwardAPI) return 'files';
  if (volume.emptyDir) return 'emptyDir';
  if (volume.hostPath) return 'hostPath';
  const type = Object.keys(volume).find((k) => k !== 'name') ?? 'unknown';
  return { unsupported: `volume "${volume.name}": ${type} volumes are not supported by the local node` };
}

/** The API objects and tokens a volume needs. */
export function volumeNeeds(volumes: readonly V1Volume[]): VolumeNeeds {
  const needs: VolumeNeeds = { secrets: new Set(), configMaps: new Set(), tokens: new Map() };
  for (const volume of volumes) {
    if (volume.secret?.secretName) needs.secrets.add(volume.secret.secretName);
    if (volume.configMap?.name) needs.configMaps.add(volume.configMap.name);
    for (const source of volume.projected?.sources ?? []) {
      if (source.secret?.name) needs.secrets.add(source.secret.name);
      if (source.configMap?.name) needs.configMaps.add(source.configMap.name);
      if (source.serviceAccountToken) {
        const spec = {
          audience: source.serviceAccountToken.audience ?? '',
          expirationSeconds: source.serviceAccountToken.expirationSeconds ?? DEFAULT_TOKEN_SECONDS,
        };
        needs.tokens.set(tokenKey(spec), spec);
      }
    }
  }
  return needs;
}

class RenderError extends Error {}

function checkPath(path: string): string {
  const parts = path.split('/');
  if (path === '' || path.startsWith('/') || parts.includes('..') || parts.some((p) => p.startsWith('..'))) {
    throw new RenderError(`invalid volume path "${path}"`);
  }
  return path;
}

function keyedFiles(
  files: Map<string, VolumeFile>,
  kind: 'Secret' | 'ConfigMap',
  name: string,
  data: Readonly<Record<string, Buffer>> | undefined,
  items: readonly V1KeyToPath[] | undefined,
  optional: boolean,
  mode: number,
): void {
  if (data === undefined) {
    if (optional) return;
    throw new RenderError(`${kind === 'Secret' ? 'secret' : 'configmap'} "${name}" not found`);
  }
  if (items === undefined || items.length === 0) {
    for (const [key, value] of Object.entries(data)) files.set(checkPath(key), { data: value, mode });
    return;
  }
  for (const item of items) {
    const value = data[item.key];
    if (value === undefined) {
      if (optional) continue;
      throw new RenderError(
        `${kind === 'Secret' ? 'secret' : 'configmap'} references non-existent ${kind === 'Secret' ? 'secret' : 'config'} key: ${item.key}`,
      );
    }
    files.set(checkPath(item.path), { data: value, mode: item.mode ?? mode });
  }
}

/** `key="value"` lines, sorted by key, as the kubelet writes labels and annotations. */
export function formatMap(map: Readonly<Record<string, string>> | undefined): string {
  return Object.keys(map ?? {})
    .sort()
    .map((key) => `${key}=${JSON.stringify(map?.[key] ?? '')}`)
    .join('\n');
}

function downwardFiles(
  files: Map<string, VolumeFile>,
  pod: V1Pod,
  items: readonly V1DownwardAPIVolumeFile[],
  mode: number,
): void {
  for (const item of items) {
    let value: string;
    const fieldPath = item.fieldRef?.fieldPath;
    if (fieldPath === 'metadata.labels') value = formatMap(pod.metadata?.labels);
    else if (fieldPath === 'metadata.annotations') value = formatMap(pod.metadata?.annotations);
    else if (fieldPath !== undefined) {
      try {
        value = fieldPathValue(pod, fieldPath);
      } catch (error) {
        throw new RenderError((error as Error).message);
      }
    } else {
      throw new RenderError(`downwardAPI item "${item.path}": only fieldRef is supported by the local node`);
    }
    files.set(checkPath(item.path), { data: Buffer.from(value), mode: item.mode ?? mode });
  }
}

/**
 * The files of a secret, configMap, downwardAPI or projected volume, from data already fetched.
 * A missing required Secret, ConfigMap or key fails the volume with the kubelet's message (the
 * pod waits in ContainerCreating until it appears).
 */
export function renderVolume(volume: V1Volume, pod: V1Pod, data: VolumeData): RenderResult {
  const files = new Map<string, VolumeFile>();
  try {
    if (volume.secret) {
      const name = volume.secret.secretName ?? '';
      keyedFiles(
        files,
        'Secret',
        name,
        data.secrets.get(name),
        volume.secret.items,
        volume.secret.optional === true,
        volume.secret.defaultMode ?? DEFAULT_MODE,
      );
    } else if (volume.configMap) {
      const name = volume.configMap.name ?? '';
      keyedFiles(
        files,
        'ConfigMap',
        name,
        data.configMaps.get(name),
        volume.configMap.items,
        volume.configMap.optional === true,
        volume.configMap.defaultMode ?? DEFAULT_MODE,
      );
    } else if (volume.downwardAPI) {
      downwardFiles(
        files,
        pod,
        volume.downwardAPI.items ?? [],
        volume.downwardAPI.defaultMode ?? DEFAULT_MODE,
      );
    } else if (volume.projected) {
      const mode = volume.projected.defaultMode ?? DEFAULT_MODE;
      for (const source of volume.projected.sources ?? []) {
        if (source.secret) {
          const name = source.secret.name ?? '';
          keyedFiles(
            files,
            'Secret',
            name,
            data.secrets.get(name),
            source.secret.items,
            source.secret.optional === true,
            mode,
          );
        } else if (source.configMap) {
          const name = source.configMap.name ?? '';
          keyedFiles(
            files,
            'ConfigMap',
            name,
            data.configMaps.get(name),
            source.configMap.items,
            source.configMap.optional === true,
            mode,
          );
        } else if (source.downwardAPI) {
          downwardFiles(files, pod, source.downwardAPI.items ?? [], mode);
        } else if (source.serviceAccountToken) {
          const spec = {
            audience: source.serviceAccountToken.audience ?? '',
            expirationSeconds: source.serviceAccountToken.expirationSeconds ?? DEFAULT_TOKEN_SECONDS,
          };
          const token = data.tokens.get(tokenKey(spec));
          if (token === undefined)
            throw new RenderError(`no service account token for audience "${spec.audience}"`);
          // The kubelet writes the token 0600 unless a mode is given; it is a credential.
          files.set(checkPath(source.serviceAccountToken.path), {
            data: Buffer.from(token),
            mode: volume.projected.defaultMode ?? 0o600,
          });
        } else {
          throw new RenderError(
            `volume "${volume.name}": a projected source the local node does not support`,
          );
        }
      }
    }
  } catch (error) {
    if (error instanceof RenderError)
      return { ok: false, message: `MountVolume.SetUp failed for volume "${volume.name}": ${error.message}` };
    throw error;
  }
  return { ok: true, files };
}
