import type { V1Container } from '@kubernetes/client-node';
import { expandAll } from './env-resolver.ts';

/** What an image is mapped to on this host. */
export interface ImageMapping {
  /** The Node binary the local node itself runs on; a command `node` resolves to it. */
  nodePath: string;
  /** This checkout's built CLI (`<repoRoot>/dist/src/cli/main.js`). */
  cliPath: string;
}

export type CommandResolution =
  | { ok: true; command: string; args: string[] }
  | { ok: false; reason: 'CreateContainerError'; message: string };

export function isQueueshiftImage(image: string | undefined): boolean {
  return (image ?? '').includes('queueshift');
}

/**
 * The host command for a container. An image whose name contains `queueshift` is this checkout's
 * CLI, whose arguments are the container's `args` (the image's entrypoint is the CLI, so a
 * `command` is ignored); any other image needs a `command`, run on the host with its `args`. Both
 * get `$(VAR)` expansion with the container's environment, as in Kubernetes.
 */
export function resolveCommand(
  container: V1Container,
  env: Readonly<Record<string, string>>,
  mapping: ImageMapping,
): CommandResolution {
  const args = expandAll(container.args ?? [], env);
  if (isQueueshiftImage(container.image)) {
    return { ok: true, command: mapping.nodePath, args: [mapping.cliPath, ...args] };
  }
  const command = expandAll(container.command ?? [], env);
  const [program, ...commandArgs] = command;
  if (program === undefined || program === '') {
    return {
      ok: false,
      reason: 'CreateContainerError',
      message:
        `image "${container.image ?? ''}" cannot run on the local node: only images whose name contains ` +
        `"queueshift" map to a program (this checkout's CLI); give container "${container.name}" a command`,
    };
  }
  return {
    ok: true,
    command: program === 'node' ? mapping.nodePath : program,
    args: [...commandArgs, ...args],
  };
}
