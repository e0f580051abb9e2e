import type { BackendKind } from '../../adapter/index.ts';
import { PluginError } from './plugin-error.ts';

/** Where to talk to the cluster: as kubectl's flags of the same names say. */
export interface ConnectionFlags {
  kubeconfig?: string;
  context?: string;
  namespace?: string;
}

export const CONTROL_ACTIONS = ['pause', 'resume', 'promote', 'abort', 'retry'] as const;
export type ControlAction = (typeof CONTROL_ACTIONS)[number];

const BACKENDS: readonly BackendKind[] = ['redis', 'sqs'];

export type PluginCommand =
  | { kind: 'help' }
  | { kind: 'status'; name: string }
  | { kind: 'list'; allNamespaces: boolean }
  | { kind: 'control'; action: ControlAction; name: string }
  | { kind: 'dlq-list'; name: string; backends: readonly BackendKind[]; limit: number }
  | { kind: 'dlq-inspect'; name: string; id: string; backend: BackendKind | undefined }
  | {
      kind: 'dlq-redrive';
      name: string;
      id: string | undefined;
      backends: readonly BackendKind[];
      limit: number | undefined;
    };

export interface Invocation {
  command: PluginCommand;
  connection: ConnectionFlags;
}

/** Dead letters shown by `dlq list` unless --limit says otherwise. */
export const DEFAULT_LIST_LIMIT = 50;

export const PLUGIN_USAGE = `usage: kubectl queueshift <command> [flags]
  status <name>                  stages timeline, gates with values and thresholds, conditions
  list                           QueueMigrations of the namespace (-A: of every namespace)
  pause <name> | resume <name>   hold or release the current stage (spec.paused)
  promote <name>                 skip the time, metric and approval waits of the current step
  abort <name>                   roll back to SQS
  retry <name>                   start again after a rollback, or override a field conflict
  dlq list <name>                dead letters of the Redis stream and the SQS queue, with reasons
  dlq inspect <name> <id>        one dead letter: reason, attributes, body
  dlq redrive <name> [<id>]      move dead letters back to their queue, oldest first, one at a time
flags:
  -n, --namespace <ns>    namespace of the QueueMigration (default: the context's, else default)
  -A, --all-namespaces    list: every namespace
  --kubeconfig <file>     kubeconfig file (default: $KUBECONFIG, else ~/.kube/config)
  --context <name>        kubeconfig context (default: the current context)
  --backend redis|sqs     dlq: one back end only (inspect: default from the id's form)
  --limit <n>             dlq list: at most n per back end (default ${DEFAULT_LIST_LIMIT}); redrive: at most n
`;

interface FlagSpec {
  names: readonly string[];
  key: 'namespace' | 'allNamespaces' | 'kubeconfig' | 'context' | 'backend' | 'limit' | 'help';
  takesValue: boolean;
}

const FLAGS: readonly FlagSpec[] = [
  { names: ['-n', '--namespace'], key: 'namespace', takesValue: true },
  { names: ['-A', '--all-namespaces'], key: 'allNamespaces', takesValue: false },
  { names: ['--kubeconfig'], key: 'kubeconfig', takesValue: true },
  { names: ['--context'], key: 'context', takesValue: true },
  { names: ['--backend'], key: 'backend', takesValue: true },
  { names: ['--limit'], key: 'limit', takesValue: true },
  { names: ['-h', '--help'], key: 'help', takesValue: false },
];

type FlagValues = Partial<Record<FlagSpec['key'], string>>;

const usage = (problem: string): PluginError => new PluginError('PLUGIN_USAGE', problem);

/** Object names are DNS subdomains and namespaces DNS labels: anything else never names an object. */
const OBJECT_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const NAMESPACE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

function checkNames(name: string | undefined, namespace: string | undefined): void {
  if (name !== undefined && (name.length > 253 || !OBJECT_NAME.test(name))) {
    throw usage(
      `"${name}" is not a QueueMigration name (a DNS subdomain: lower case letters, digits, '-', '.')`,
    );
  }
  if (namespace !== undefined && (namespace.length > 63 || !NAMESPACE.test(namespace))) {
    throw usage(`"${namespace}" is not a namespace name (a DNS label: lower case letters, digits, '-')`);
  }
}

/** Flags anywhere on the line, in `--flag value` or `--flag=value` form; the rest are positionals. */
function separate(args: readonly string[]): { flags: FlagValues; positionals: string[] } {
  const flags: FlagValues = {};
  const positionals: string[] = [];
  for (let i = 0; i < args.length; i += 1) {
    const arg = args[i] as string;
    if (arg === '--') {
      positionals.push(...args.slice(i + 1));
      break;
    }
    if (!arg.startsWith('-') || arg === '-') {
      positionals.push(arg);
      continue;
    }
    const equals = arg.indexOf('=');
    const name = equals === -1 ? arg : arg.slice(0, equals);
    const spec = FLAGS.find((flag) => flag.names.includes(name));
    if (spec === undefined) throw usage(`unknown flag ${name}`);
    if (flags[spec.key] !== undefined) throw usage(`${name} given twice`);
    if (!spec.takesValue) {
      if (equals !== -1) throw usage(`${name} takes no value`);
      flags[spec.key] = 'true';
      continue;
    }
    const value = equals === -1 ? args[(i += 1)] : arg.slice(equals + 1);
    if (value === undefined || value === '') throw usage(`${name} needs a value`);
    flags[spec.key] = value;
  }
  return { flags, positionals };
}

function positiveLimit(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^[1-9][0-9]{0,5}$/.test(text))
    throw usage(`--limit must be a whole number from 1 to 999999, not ${text}`);
  return Number(text);
}

function backendsOf(text: string | undefined): readonly BackendKind[] {
  if (text === undefined) return BACKENDS;
  const backend = BACKENDS.find((kind) => kind === text);
  if (backend === undefined) throw usage(`--backend must be redis or sqs, not ${text}`);
  return [backend];
}

/** Exactly the positionals a command takes, each named in the problem when missing or extra. */
function operands(
  command: string,
  given: readonly string[],
  names: readonly string[],
  optional = 0,
): string[] {
  const least = names.length - optional;
  if (given.length < least) throw usage(`${command}: missing <${names[given.length] ?? ''}>`);
  if (given.length > names.length)
    throw usage(`${command}: unexpected argument ${given[names.length] ?? ''}`);
  return [...given];
}

function isControl(word: string): word is ControlAction {
  return (CONTROL_ACTIONS as readonly string[]).includes(word);
}

/** Flags that only some commands take: anywhere else they are refused, not ignored. */
function refuseFlags(flags: FlagValues, command: string, keys: readonly (keyof FlagValues)[]): void {
  for (const key of keys) {
    if (flags[key] === undefined) continue;
    const spec = FLAGS.find((flag) => flag.key === key);
    throw usage(`${command} does not take ${spec?.names.at(-1) ?? key}`);
  }
}

function dlqCommand(
  subcommand: string | undefined,
  rest: readonly string[],
  flags: FlagValues,
): PluginCommand {
  refuseFlags(flags, 'dlq', ['allNamespaces']);
  switch (subcommand) {
    case 'list': {
      const [name] = operands('dlq list', rest, ['name']) as [string];
      return {
        kind: 'dlq-list',
        name,
        backends: backendsOf(flags.backend),
        limit: positiveLimit(flags.limit) ?? DEFAULT_LIST_LIMIT,
      };
    }
    case 'inspect': {
      refuseFlags(flags, 'dlq inspect', ['limit']);
      const [name, id] = operands('dlq inspect', rest, ['name', 'id']) as [string, string];
      const backend = flags.backend === undefined ? undefined : backendsOf(flags.backend)[0];
      return { kind: 'dlq-inspect', name, id, backend };
    }
    case 'redrive': {
      const [name, id] = operands('dlq redrive', rest, ['name', 'id'], 1) as [string, string?];
      if (id !== undefined && flags.limit !== undefined)
        throw usage('dlq redrive: --limit goes with redriving all, not one id');
      return {
        kind: 'dlq-redrive',
        name,
        id,
        backends: backendsOf(flags.backend),
        limit: positiveLimit(flags.limit),
      };
    }
    case undefined:
      throw usage('dlq: missing subcommand (list, inspect or redrive)');
    default:
      throw usage(`dlq: unknown subcommand ${subcommand}`);
  }
}

function commandOf(positionals: readonly string[], flags: FlagValues): PluginCommand {
  const [word, ...rest] = positionals;
  if (flags.help !== undefined || word === undefined || word === 'help') return { kind: 'help' };
  if (word === 'dlq') return dlqCommand(rest[0], rest.slice(1), flags);
  refuseFlags(flags, word, ['backend', 'limit']);
  if (word === 'list') {
    operands('list', rest, []);
    if (flags.allNamespaces !== undefined && flags.namespace !== undefined) {
      throw usage('list: -A and -n exclude each other');
    }
    return { kind: 'list', allNamespaces: flags.allNamespaces !== undefined };
  }
  refuseFlags(flags, word, ['allNamespaces']);
  if (word === 'status') {
    const [name] = operands('status', rest, ['name']) as [string];
    return { kind: 'status', name };
  }
  if (isControl(word)) {
    const [name] = operands(word, rest, ['name']) as [string];
    return { kind: 'control', action: word, name };
  }
  throw usage(`unknown command ${word}`);
}

/** The invocation a command line asks for; throws PLUGIN_USAGE naming the first problem. */
export function parsePluginArgs(args: readonly string[]): Invocation {
  const { flags, positionals } = separate(args);
  const command = commandOf(positionals, flags);
  checkNames('name' in command ? command.name : undefined, flags.namespace);
  return {
    command,
    connection: {
      ...(flags.kubeconfig !== undefined && { kubeconfig: flags.kubeconfig }),
      ...(flags.context !== undefined && { context: flags.context }),
      ...(flags.namespace !== undefined && { namespace: flags.namespace }),
    },
  };
}
