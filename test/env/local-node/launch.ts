import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import type { EnvContext } from '../context.ts';
import { waitForDaemon } from '../readiness.ts';
import { optionArgs } from './options.ts';

export const NODE_NAME = 'local-node';
const DAEMON = 'local-node';

/**
 * Starts the local node (a kubelet stand-in that runs the pods bound to it as processes) against
 * the environment's control plane, and resolves once its Node object is Ready.
 */
export async function startLocalNode(ctx: EnvContext): Promise<void> {
  const kube = ctx.state.kube;
  if (!kube) throw new Error('the local node needs the control plane: start it first');
  const main = path.join(path.dirname(fileURLToPath(import.meta.url)), 'main.ts');
  const args = optionArgs({
    kubeconfig: kube.kubeconfig,
    stateDir: ctx.paths.stateDir,
    repoRoot: ctx.paths.repoRoot,
    nodeName: NODE_NAME,
    kubeletVersion: kube.version,
    ...(ctx.state.prometheus && { fileSdDir: ctx.state.prometheus.fileSdDir }),
  });
  const startedAt = Date.now();
  const daemon = ctx.startDaemon({
    name: DAEMON,
    command: process.execPath,
    args: ['--disable-warning=ExperimentalWarning', main, ...args],
    cwd: ctx.paths.repoRoot,
  });

  const kc = new KubeConfig();
  kc.loadFromFile(kube.kubeconfig);
  const core = kc.makeApiClient(CoreV1Api);
  await waitForDaemon(
    daemon,
    async () => {
      const node = await core.readNode({ name: NODE_NAME });
      const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
      // A heartbeat from this process, not a Node left Ready by an earlier one (times are whole seconds).
      const beat = ready?.lastHeartbeatTime ? new Date(ready.lastHeartbeatTime).getTime() : 0;
      return ready?.status === 'True' && beat >= startedAt - 1_000;
    },
    { what: `node ${NODE_NAME} to be Ready`, timeoutMs: 60_000, intervalMs: 250 },
  );
  ctx.state.localNode = { daemon: DAEMON, nodeName: NODE_NAME };
  ctx.save();
  ctx.info(`local node ${NODE_NAME} Ready (pods under ${path.join(ctx.paths.stateDir, 'pods')})`);
}
