import fs from 'node:fs';
import path from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { KubeApi } from '../../operator/kube/kube-api.ts';
import { kubeConfigCredentials } from '../../operator/kube/kube-credentials-of-kube-config.ts';
import type { ConnectionFlags } from './plugin-args.ts';
import { PluginError } from './plugin-error.ts';

/** The variables kubectl itself reads to find its configuration. */
export interface KubeEnvironment {
  KUBECONFIG?: string | undefined;
  HOME?: string | undefined;
}

export interface KubeSession {
  api: KubeApi;
  /** The namespace commands act in: -n, else the context's, else `default` (as kubectl). */
  namespace: string;
}

const failure = (message: string, cause?: unknown): PluginError =>
  new PluginError('PLUGIN_KUBECONFIG', message, cause === undefined ? undefined : { cause });

/**
 * The files kubectl would read: --kubeconfig alone; else every file KUBECONFIG lists that exists
 * (merged, the first one's current context winning); else ~/.kube/config.
 */
export function kubeconfigFiles(
  flags: ConnectionFlags,
  env: KubeEnvironment,
  exists: (file: string) => boolean,
): string[] {
  if (flags.kubeconfig !== undefined) return [flags.kubeconfig];
  const listed = (env.KUBECONFIG ?? '').split(path.delimiter).filter((file) => file !== '');
  if (listed.length > 0) return listed.filter(exists);
  return env.HOME === undefined ? [] : [path.join(env.HOME, '.kube', 'config')].filter(exists);
}

function load(files: readonly string[]): KubeConfig {
  const [first, ...others] = files;
  if (first === undefined) {
    throw failure('no kubeconfig found: pass --kubeconfig, set KUBECONFIG, or create ~/.kube/config');
  }
  const config = new KubeConfig();
  try {
    config.loadFromFile(first);
    for (const file of others) {
      const more = new KubeConfig();
      more.loadFromFile(file);
      config.mergeConfig(more, true);
    }
  } catch (error) {
    throw failure(`cannot load kubeconfig ${files.join(path.delimiter)}: ${(error as Error).message}`, error);
  }
  return config;
}

/** The API client and namespace of one invocation. */
export function openKubeSession(flags: ConnectionFlags, env: KubeEnvironment): KubeSession {
  const files = kubeconfigFiles(flags, env, (file) => fs.existsSync(file));
  const config = load(files);
  if (flags.context !== undefined) {
    if (config.getContextObject(flags.context) === null) {
      throw failure(`context "${flags.context}" is not in kubeconfig ${files.join(path.delimiter)}`);
    }
    config.setCurrentContext(flags.context);
  }
  let api: KubeApi;
  try {
    api = new KubeApi(kubeConfigCredentials(config));
  } catch (error) {
    throw failure(`kubeconfig ${files.join(path.delimiter)}: ${(error as Error).message}`, error);
  }
  const contextNamespace = config.getContextObject(config.getCurrentContext())?.namespace;
  return { api, namespace: flags.namespace ?? contextNamespace ?? 'default' };
}
