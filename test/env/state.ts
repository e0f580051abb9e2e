import fs from 'node:fs';
import type { DaemonRecord } from './processes.ts';

export interface HostPort {
  host: string;
  port: number;
}

export interface RedisServer extends HostPort {
  /** Its daemon's name in `EnvironmentState.daemons` (tests fault it by pid). */
  daemon: string;
}

export interface RedisEndpoints {
  /** The stream Redis: the queue back end under migration. */
  streams: RedisServer;
  /** Idempotency keys and test ledgers, apart so that faulting the stream Redis blinds no check. */
  idempotency: RedisServer;
}

export interface SentinelEndpoints {
  masterName: string;
  primary: RedisServer;
  replica: RedisServer;
  sentinels: RedisServer[];
}

export interface TlsRedisEndpoint extends HostPort {
  daemon: string;
  caFile: string;
  certFile: string;
  keyFile: string;
  /** An ACL user with rights on stream keys only; the default user is disabled. */
  username: string;
  password: string;
}

export interface SqsEndpoint {
  daemon: string;
  endpoint: string;
  region: string;
}

export interface PrometheusEndpoint {
  daemon: string;
  url: string;
  /** File-based service discovery: the local node writes one JSON target file per pod here. */
  fileSdDir: string;
}

export interface KubeEndpoint {
  server: string;
  /** Admin (system:masters) kubeconfig. */
  kubeconfig: string;
  caFile: string;
  /** kubectl built at the control plane's version (the machine's own may be older). */
  kubectl: string;
  version: string;
}

export interface LocalNodeInfo {
  daemon: string;
  nodeName: string;
}

/** Everything `env:up` started and where it listens; written to `.queueshift/state.json`. */
export interface EnvironmentState {
  startedAt: string;
  /** Value of MARKER_VARIABLE carried by every process of this environment. */
  marker: string;
  daemons: DaemonRecord[];
  redis?: RedisEndpoints;
  sentinel?: SentinelEndpoints;
  tlsRedis?: TlsRedisEndpoint;
  sqs?: SqsEndpoint;
  prometheus?: PrometheusEndpoint;
  kube?: KubeEndpoint;
  localNode?: LocalNodeInfo;
}

export function readState(stateFile: string): EnvironmentState | undefined {
  if (!fs.existsSync(stateFile)) return undefined;
  return JSON.parse(fs.readFileSync(stateFile, 'utf8')) as EnvironmentState;
}

export function writeState(stateFile: string, state: EnvironmentState): void {
  const temp = `${stateFile}.tmp`;
  fs.writeFileSync(temp, JSON.stringify(state, null, 2) + '\n');
  fs.renameSync(temp, stateFile);
}

export function daemonPid(state: EnvironmentState, name: string): number {
  const record = state.daemons.find((d) => d.name === name);
  if (!record) throw new Error(`the environment has no daemon named ${name}`);
  return record.pid;
}
