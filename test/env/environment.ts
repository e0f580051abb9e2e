import fs from 'node:fs';
import { EnvContext } from './context.ts';
import type { EnvPaths } from './paths.ts';
import { isAlive, killMarkedProcesses, stopProcessGroup } from './processes.ts';
import { readState, type EnvironmentState } from './state.ts';
import { startRedisServers } from './redis.ts';
import { startSentinelTopology } from './sentinel.ts';
import { startTlsRedis } from './tls-redis.ts';
import { startSqs } from './sqs.ts';
import { startPrometheus } from './prometheus.ts';
import { startControlPlane } from './kube/control-plane.ts';
import { startLocalNode } from './local-node/launch.ts';

export type Log = (line: string) => void;

/**
 * Starts every server of the test environment on free loopback ports and writes
 * `.queueshift/state.json` and `.queueshift/env`. A failure part-way stops what was started.
 */
export async function up(paths: EnvPaths, log: Log): Promise<EnvironmentState> {
  const existing = readState(paths.stateFile);
  if (existing && existing.daemons.every((d) => isAlive(d.pid))) {
    log(`environment already up (started ${existing.startedAt})`);
    return existing;
  }
  if (existing) await down(paths, log);
  fs.mkdirSync(paths.stateDir, { recursive: true });
  const ctx = new EnvContext(
    paths,
    { startedAt: new Date().toISOString(), marker: paths.stateDir, daemons: [] },
    log,
  );
  ctx.save();
  try {
    // Independent servers start together; the control plane is the slow one.
    await Promise.all([
      startRedisServers(ctx),
      startSentinelTopology(ctx),
      startTlsRedis(ctx),
      startSqs(ctx),
      startPrometheus(ctx),
      startControlPlane(ctx),
    ]);
    await startLocalNode(ctx);
  } catch (error) {
    log(`environment failed to start: ${(error as Error).message}; stopping what was started`);
    await down(paths, log);
    throw error;
  }
  fs.writeFileSync(paths.envFile, renderEnvFile(environmentVariables(ctx.state)));
  ctx.save();
  return ctx.state;
}

/** Stops every daemon (reverse start order), then anything else carrying the marker. */
export async function down(paths: EnvPaths, log: Log): Promise<void> {
  const state = readState(paths.stateFile);
  if (!state) {
    log('environment is not up');
    return;
  }
  for (const daemon of [...state.daemons].reverse()) {
    await stopProcessGroup(daemon.pid, 15_000);
  }
  const leftovers = await killMarkedProcesses(state.marker);
  if (leftovers.length > 0) log(`killed ${leftovers.length} leftover process(es): ${leftovers.join(', ')}`);
  fs.rmSync(paths.stateFile, { force: true });
  fs.rmSync(paths.envFile, { force: true });
  log('environment stopped');
}

/** The variables `.queueshift/env` exports: what a person or script needs to reach each server. */
export function environmentVariables(state: EnvironmentState): Record<string, string> {
  const vars: Record<string, string> = {};
  const address = (s: { host: string; port: number }): string => `${s.host}:${s.port}`;
  if (state.kube) vars['KUBECONFIG'] = state.kube.kubeconfig;
  if (state.redis) {
    vars['REDIS_ADDRESS'] = address(state.redis.streams);
    vars['IDEMPOTENCY_REDIS_ADDRESS'] = address(state.redis.idempotency);
  }
  if (state.sentinel) {
    vars['QUEUESHIFT_SENTINEL_ADDRESSES'] = state.sentinel.sentinels.map(address).join(',');
    vars['QUEUESHIFT_SENTINEL_MASTER_NAME'] = state.sentinel.masterName;
  }
  if (state.tlsRedis) {
    vars['QUEUESHIFT_TLS_REDIS_ADDRESS'] = address(state.tlsRedis);
    vars['QUEUESHIFT_TLS_REDIS_CA_FILE'] = state.tlsRedis.caFile;
    vars['QUEUESHIFT_TLS_REDIS_CERT_FILE'] = state.tlsRedis.certFile;
    vars['QUEUESHIFT_TLS_REDIS_KEY_FILE'] = state.tlsRedis.keyFile;
  }
  if (state.sqs) {
    vars['AWS_ENDPOINT_URL'] = state.sqs.endpoint;
    vars['AWS_REGION'] = state.sqs.region;
    // The emulator accepts any credentials; the SDK's default chain still wants some.
    vars['AWS_ACCESS_KEY_ID'] = 'test';
    vars['AWS_SECRET_ACCESS_KEY'] = 'test';
  }
  if (state.prometheus) vars['PROMETHEUS_URL'] = state.prometheus.url;
  return vars;
}

function renderEnvFile(vars: Record<string, string>): string {
  const quote = (v: string): string => `'${v.replaceAll("'", `'\\''`)}'`;
  return (
    '# Written by `npm run env:up`; source it: . .queueshift/env\n' +
    Object.entries(vars)
      .map(([k, v]) => `export ${k}=${quote(v)}`)
      .join('\n') +
    '\n'
  );
}
