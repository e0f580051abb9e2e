import fs from 'node:fs';
import path from 'node:path';
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { LOOPBACK } from '../ports.ts';
import { isQueueshiftImage, resolveCommand } from './container-command.ts';
import type { Prepared } from './container-supervisor.ts';
import { referencedSources, resolveContainerEnv, type ConfigSources } from './env-resolver.ts';
import { errorMessage, readOrUndefined, type KubeClients } from './kube-client.ts';
import { containerMounts, mountWrapper } from './mount-namespace.ts';

/** The node-wide settings a container launch depends on. */
export interface LaunchSettings {
  clients: KubeClients;
  /** The variables every container starts from (PATH, HOME, the environment marker). */
  baseEnv: Readonly<Record<string, string>>;
  nodePath: string;
  cliPath: string;
  repoRoot: string;
}

export interface LaunchRequest {
  pod: V1Pod;
  container: V1Container;
  /** The loopback port the container gets as PORT. */
  port: number;
  /** Folder for `<container>.log`. */
  podDir: string;
  /** Where each volume is on the host; undefined = no mount namespaces on this machine. */
  volumeDir: ((name: string) => string) | undefined;
}

const RETRY_MS = 2_000;

/** The Secrets and ConfigMaps the container's env refers to (missing ones map to undefined). */
async function fetchSources(
  clients: KubeClients,
  pod: V1Pod,
  container: V1Container,
): Promise<ConfigSources> {
  const names = referencedSources(container);
  const namespace = pod.metadata?.namespace ?? 'default';
  const { core } = clients;
  const secrets = new Map<string, Record<string, string> | undefined>();
  const configMaps = new Map<string, Record<string, string> | undefined>();
  await Promise.all([
    ...[...names.secrets].map(async (name) => {
      const secret = await readOrUndefined(() => core.readNamespacedSecret({ name, namespace }));
      const decoded = Object.entries(secret?.data ?? {}).map(([k, v]): [string, string] => [
        k,
        Buffer.from(v, 'base64').toString('utf8'),
      ]);
      secrets.set(name, secret && Object.fromEntries(decoded));
    }),
    ...[...names.configMaps].map(async (name) => {
      const configMap = await readOrUndefined(() => core.readNamespacedConfigMap({ name, namespace }));
      configMaps.set(name, configMap && { ...(configMap.data ?? {}) });
    }),
  ]);
  return { secrets, configMaps };
}

/**
 * Everything a container needs to start now — its environment (base, API server location, PORT,
 * then its own env resolved from the API), its host command, its mounts — or the waiting reason
 * that says why it cannot start yet.
 */
export async function prepareContainer(settings: LaunchSettings, request: LaunchRequest): Promise<Prepared> {
  const { pod, container, port } = request;
  let sources: ConfigSources;
  try {
    sources = await fetchSources(settings.clients, pod, container);
  } catch (error) {
    return {
      ok: false,
      reason: 'CreateContainerConfigError',
      message: errorMessage(error),
      retryMs: RETRY_MS,
    };
  }
  const { apiServerPort } = settings.clients;
  const serviceEnv = {
    KUBERNETES_SERVICE_HOST: LOOPBACK,
    KUBERNETES_SERVICE_PORT: String(apiServerPort),
    KUBERNETES_SERVICE_PORT_HTTPS: String(apiServerPort),
    KUBERNETES_PORT: `tcp://${LOOPBACK}:${apiServerPort}`,
    PORT: String(port),
  };
  const resolved = resolveContainerEnv(pod, container, sources, serviceEnv);
  if (!resolved.ok) return { ...resolved, retryMs: RETRY_MS };
  const env = {
    ...settings.baseEnv,
    HOSTNAME: pod.metadata?.name ?? '',
    ...serviceEnv,
    ...resolved.env,
    // The port is the local node's to choose; whatever the spec says, the process listens here.
    PORT: String(port),
  };
  const command = resolveCommand(container, env, { nodePath: settings.nodePath, cliPath: settings.cliPath });
  if (!command.ok) return { ...command, retryMs: 10_000 };
  if (isQueueshiftImage(container.image) && !fs.existsSync(settings.cliPath)) {
    return {
      ok: false,
      reason: 'CreateContainerError',
      message: `image "${container.image ?? ''}" maps to ${settings.cliPath}, which does not exist: run \`npm run build\``,
      retryMs: 5_000,
    };
  }
  let launch = { command: command.command, args: command.args };
  const cwd = container.workingDir ?? settings.repoRoot;
  let mountNamespace = false;
  if (request.volumeDir && (container.volumeMounts ?? []).length > 0) {
    const mounts = containerMounts(container, pod.spec?.volumes ?? [], request.volumeDir, env);
    if (!mounts.ok) {
      return { ok: false, reason: 'CreateContainerConfigError', message: mounts.message, retryMs: 10_000 };
    }
    launch = mountWrapper(mounts.mounts, launch.command, launch.args);
    mountNamespace = true;
  }
  return {
    ok: true,
    launch: { ...launch, env, cwd, logFile: path.join(request.podDir, `${container.name}.log`) },
    target: { port, env, cwd, nodePath: settings.nodePath },
    mountNamespace,
  };
}
