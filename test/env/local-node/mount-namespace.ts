import path from 'node:path';
import type { V1Container, V1Volume } from '@kubernetes/client-node';
import { expand } from './expand.ts';

/** A bind mount inside a container's private mount namespace. */
export interface BindMount {
  source: string;
  target: string;
  readOnly: boolean;
}

export type MountsResult = { ok: true; mounts: BindMount[] } | { ok: false; message: string };

/** Volumes whose contents the kubelet always mounts read-only. */
function alwaysReadOnly(volume: V1Volume): boolean {
  return Boolean(volume.secret ?? volume.configMap ?? volume.projected ?? volume.downwardAPI);
}

/**
 * The bind mounts for a container's volumeMounts. `volumeDir(name)` is where the pod's volume
 * `name` lives on the host; a subPath (or subPathExpr, expanded with the container's env) mounts
 * a path inside it.
 */
export function containerMounts(
  container: V1Container,
  volumes: readonly V1Volume[],
  volumeDir: (name: string) => string,
  env: Readonly<Record<string, string>>,
): MountsResult {
  const mounts: BindMount[] = [];
  for (const mount of container.volumeMounts ?? []) {
    const volume = volumes.find((v) => v.name === mount.name);
    if (!volume) return { ok: false, message: `volumeMount "${mount.name}" refers to no volume of the pod` };
    if (!path.isAbsolute(mount.mountPath)) {
      return {
        ok: false,
        message: `volumeMount "${mount.name}": mountPath "${mount.mountPath}" is not absolute`,
      };
    }
    const subPath =
      mount.subPathExpr !== undefined && mount.subPathExpr !== ''
        ? expand(mount.subPathExpr, (name) => (Object.hasOwn(env, name) ? env[name] : undefined))
        : (mount.subPath ?? '');
    if (subPath.startsWith('/') || subPath.split('/').includes('..')) {
      return {
        ok: false,
        message: `volumeMount "${mount.name}": subPath "${subPath}" must be a relative path inside the volume`,
      };
    }
    const base = volumeDir(mount.name);
    mounts.push({
      source: subPath === '' ? base : path.join(base, subPath),
      target: path.normalize(mount.mountPath),
      readOnly: mount.readOnly === true || alwaysReadOnly(volume),
    });
  }
  return { ok: true, mounts };
}

function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

/**
 * The command line that runs `command args…` in a private mount namespace where each mount is in
 * place: `unshare -m --propagation private` then a shell that bind-mounts and `exec`s the command,
 * so the container's pid is the pid the local node started. Mount targets that do not exist are
 * created (a directory, or an empty file for a file mount). Needs root.
 */
export function mountWrapper(
  mounts: readonly BindMount[],
  command: string,
  args: readonly string[],
): { command: string; args: string[] } {
  const lines = ['set -e'];
  for (const mount of mounts) {
    const source = shellQuote(mount.source);
    const target = shellQuote(mount.target);
    lines.push(
      `if [ -d ${source} ]; then mkdir -p ${target}; else mkdir -p "$(dirname ${target})"; [ -e ${target} ] || : > ${target}; fi`,
      `mount --bind ${source} ${target}`,
    );
    if (mount.readOnly) lines.push(`mount -o remount,bind,ro ${target}`);
  }
  lines.push('exec "$@"');
  return {
    command: 'unshare',
    args: [
      '-m',
      '--propagation',
      'private',
      '--',
      '/bin/sh',
      '-c',
      lines.join('\n'),
      'container',
      command,
      ...args,
    ],
  };
}
