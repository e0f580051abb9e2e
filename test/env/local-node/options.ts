import { parseArgs } from 'node:util';

/** The local node daemon's settings; each comes from a command-line flag of the same name. */
export interface LocalNodeOptions {
  /** `--kubeconfig`: the credential the node uses (the admin kubeconfig in the test environment). */
  kubeconfig: string;
  /** `--node-name`. Default `local-node`. */
  nodeName: string;
  /** `--state-dir`: pod logs and volumes go under `<stateDir>/pods/`. */
  stateDir: string;
  /** `--repo-root`: the checkout whose `dist/src/cli/main.js` runs `queueshift` images. */
  repoRoot: string;
  /** `--file-sd-dir`: Prometheus file_sd folder for Ready pods' targets. Default: none written. */
  fileSdDir?: string;
  /** `--backoff-base-ms`: first crash-loop delay, doubling up to 5 min. Default 10 000. */
  backoffBaseMs: number;
  /** `--heartbeat-ms`: Node status and Lease renewal period. Default 10 000. */
  heartbeatMs: number;
  /** `--resync-ms`: full pod re-list period, besides the watch. Default 120 000. */
  resyncMs: number;
  /** `--kubelet-version`: reported in nodeInfo. Default v1.34.4. */
  kubeletVersion: string;
  /** `--cpu`: the Node's cpu capacity. Default 2. */
  cpu: string;
}

const DEFAULTS = {
  nodeName: 'local-node',
  backoffBaseMs: 10_000,
  heartbeatMs: 10_000,
  resyncMs: 120_000,
  kubeletVersion: 'v1.34.4',
  cpu: '2',
};

function positiveInteger(flag: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed <= 0)
    throw new Error(`--${flag} must be a positive integer, got "${value}"`);
  return parsed;
}

/** Parses and validates the daemon's arguments; throws with the flag named on a bad value. */
export function parseOptions(argv: readonly string[]): LocalNodeOptions {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    options: {
      kubeconfig: { type: 'string' },
      'node-name': { type: 'string' },
      'state-dir': { type: 'string' },
      'repo-root': { type: 'string' },
      'file-sd-dir': { type: 'string' },
      'backoff-base-ms': { type: 'string' },
      'heartbeat-ms': { type: 'string' },
      'resync-ms': { type: 'string' },
      'kubelet-version': { type: 'string' },
      cpu: { type: 'string' },
    },
  });
  const required = (flag: 'kubeconfig' | 'state-dir' | 'repo-root'): string => {
    const value = values[flag];
    if (value === undefined || value === '') throw new Error(`--${flag} is required`);
    return value;
  };
  const options: LocalNodeOptions = {
    kubeconfig: required('kubeconfig'),
    nodeName: values['node-name'] ?? DEFAULTS.nodeName,
    stateDir: required('state-dir'),
    repoRoot: required('repo-root'),
    backoffBaseMs: positiveInteger('backoff-base-ms', values['backoff-base-ms'], DEFAULTS.backoffBaseMs),
    heartbeatMs: positiveInteger('heartbeat-ms', values['heartbeat-ms'], DEFAULTS.heartbeatMs),
    resyncMs: positiveInteger('resync-ms', values['resync-ms'], DEFAULTS.resyncMs),
    kubeletVersion: values['kubelet-version'] ?? DEFAULTS.kubeletVersion,
    cpu: values.cpu ?? DEFAULTS.cpu,
  };
  if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(options.nodeName)) {
    throw new Error(`--node-name must be a DNS subdomain, got "${options.nodeName}"`);
  }
  if (values['file-sd-dir'] !== undefined) options.fileSdDir = values['file-sd-dir'];
  return options;
}

/** The argument list that `parseOptions` reads back (launch.ts builds the daemon's command line). */
export function optionArgs(
  options: Partial<LocalNodeOptions> & Pick<LocalNodeOptions, 'kubeconfig' | 'stateDir' | 'repoRoot'>,
): string[] {
  const args = [
    '--kubeconfig',
    options.kubeconfig,
    '--state-dir',
    options.stateDir,
    '--repo-root',
    options.repoRoot,
  ];
  if (options.nodeName !== undefined) args.push('--node-name', options.nodeName);
  if (options.fileSdDir !== undefined) args.push('--file-sd-dir', options.fileSdDir);
  if (options.backoffBaseMs !== undefined) args.push('--backoff-base-ms', String(options.backoffBaseMs));
  if (options.heartbeatMs !== undefined) args.push('--heartbeat-ms', String(options.heartbeatMs));
  if (options.resyncMs !== undefined) args.push('--resync-ms', String(options.resyncMs));
  if (options.kubeletVersion !== undefined) args.push('--kubelet-version', options.kubeletVersion);
  if (options.cpu !== undefined) args.push('--cpu', options.cpu);
  return args;
}
