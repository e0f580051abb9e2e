import fs from 'node:fs';
import path from 'node:path';
import { pino, type Logger } from 'pino';
import { MARKER_VARIABLE } from '../processes.ts';
import { DEFAULT_BACKOFF } from './backoff.ts';
import { EventRecorder } from './events.ts';
import { kubeClients } from './kube-client.ts';
import { hostFacts, NodeHeartbeat } from './node-heartbeat.ts';
import { parseOptions, type LocalNodeOptions } from './options.ts';
import { PodManager } from './pod-manager.ts';
import { PodWatch } from './pod-watch.ts';

/** On its own SIGTERM the node gives pods at most this long before SIGKILL (env:down waits 15 s). */
const SHUTDOWN_GRACE_MS = 8_000;

function canUseMountNamespaces(log: Logger): boolean {
  const root = process.getuid?.() === 0;
  const unshare = ['/usr/bin/unshare', '/bin/unshare'].some((file) => fs.existsSync(file));
  if (!root || !unshare) {
    log.warn({ root, unshare }, 'no private mount namespaces: pod volumes will not be mounted');
  }
  return root && unshare;
}

/** The variables every container starts from, taken from the node's own environment. */
function baseEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of ['PATH', 'HOME', MARKER_VARIABLE]) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  env['PATH'] ??= '/usr/local/bin:/usr/bin:/bin';
  return env;
}

export async function runLocalNode(options: LocalNodeOptions, log: Logger): Promise<void> {
  const clients = await kubeClients(options.kubeconfig);
  const heartbeat = new NodeHeartbeat(
    clients,
    hostFacts(options.nodeName, options.cpu, options.kubeletVersion),
    options.heartbeatMs,
    log.child({ component: 'heartbeat' }),
  );
  await heartbeat.register();

  const podsDir = path.join(options.stateDir, 'pods');
  fs.mkdirSync(podsDir, { recursive: true });
  if (options.fileSdDir !== undefined) fs.mkdirSync(options.fileSdDir, { recursive: true });
  const manager = new PodManager({
    clients,
    events: new EventRecorder(clients.core, options.nodeName, log),
    log,
    backoff: { ...DEFAULT_BACKOFF, baseMs: options.backoffBaseMs },
    podsDir,
    fileSdDir: options.fileSdDir,
    baseEnv: baseEnv(),
    nodePath: process.execPath,
    cliPath: path.join(options.repoRoot, 'dist', 'src', 'cli', 'main.js'),
    repoRoot: options.repoRoot,
    mountNamespaces: canUseMountNamespaces(log),
    volumeSyncMs: 60_000,
  });
  const watch = new PodWatch(clients.http, manager, log.child({ component: 'pod-watch' }), {
    nodeName: options.nodeName,
    resyncMs: options.resyncMs,
  });

  const stop = new AbortController();
  const running = Promise.all([heartbeat.run(stop.signal), watch.run(stop.signal)]);
  log.info({ node: options.nodeName }, 'local node running');

  await new Promise<void>((resolve) => {
    const onSignal = (signal: NodeJS.Signals): void => {
      log.info({ signal }, 'stopping: ending every pod process');
      resolve();
    };
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
  });
  stop.abort();
  await manager.shutdown(SHUTDOWN_GRACE_MS);
  await running;
  clients.http.close();
  log.info('local node stopped');
}

async function main(): Promise<void> {
  const log = pino({ name: 'local-node', base: null, timestamp: pino.stdTimeFunctions.isoTime });
  let options: LocalNodeOptions;
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (error) {
    log.fatal((error as Error).message);
    process.exit(2);
  }
  try {
    await runLocalNode(options, log);
    process.exit(0);
  } catch (error) {
    log.fatal({ err: error }, 'local node failed');
    process.exit(1);
  }
}

await main();
