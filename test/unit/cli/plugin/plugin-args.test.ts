import { describe, expect, it } from 'vitest';
import {
  DEFAULT_LIST_LIMIT,
  parsePluginArgs,
  type Invocation,
} from '../../../../src/cli/plugin/plugin-args.ts';
import { EXIT_USAGE, PluginError } from '../../../../src/cli/plugin/plugin-error.ts';

const ACCEPTED: { line: string; expected: Invocation }[] = [
  { line: '', expected: { command: { kind: 'help' }, connection: {} } },
  { line: 'status --help', expected: { command: { kind: 'help' }, connection: {} } },
  {
    line: 'status github-webhooks -n team-a',
    expected: { command: { kind: 'status', name: 'github-webhooks' }, connection: { namespace: 'team-a' } },
  },
  {
    line: '--namespace=team-a --context ci --kubeconfig /tmp/kc status hooks',
    expected: {
      command: { kind: 'status', name: 'hooks' },
      connection: { namespace: 'team-a', context: 'ci', kubeconfig: '/tmp/kc' },
    },
  },
  { line: 'list', expected: { command: { kind: 'list', allNamespaces: false }, connection: {} } },
  { line: 'list -A', expected: { command: { kind: 'list', allNamespaces: true }, connection: {} } },
  ...(['pause', 'resume', 'promote', 'abort', 'retry'] as const).map((action) => ({
    line: `${action} hooks -n ns`,
    expected: {
      command: { kind: 'control' as const, action, name: 'hooks' },
      connection: { namespace: 'ns' },
    },
  })),
  {
    line: 'dlq list hooks',
    expected: {
      command: { kind: 'dlq-list', name: 'hooks', backends: ['redis', 'sqs'], limit: DEFAULT_LIST_LIMIT },
      connection: {},
    },
  },
  {
    line: 'dlq list hooks --backend sqs --limit 5',
    expected: { command: { kind: 'dlq-list', name: 'hooks', backends: ['sqs'], limit: 5 }, connection: {} },
  },
  {
    line: 'dlq inspect hooks 1700000000000-0',
    expected: {
      command: { kind: 'dlq-inspect', name: 'hooks', id: '1700000000000-0', backend: undefined },
      connection: {},
    },
  },
  {
    line: 'dlq inspect hooks abc --backend=redis',
    expected: {
      command: { kind: 'dlq-inspect', name: 'hooks', id: 'abc', backend: 'redis' },
      connection: {},
    },
  },
  {
    line: 'dlq redrive hooks',
    expected: {
      command: {
        kind: 'dlq-redrive',
        name: 'hooks',
        id: undefined,
        backends: ['redis', 'sqs'],
        limit: undefined,
      },
      connection: {},
    },
  },
  {
    line: 'dlq redrive hooks 1700000000000-3 -n ns',
    expected: {
      command: {
        kind: 'dlq-redrive',
        name: 'hooks',
        id: '1700000000000-3',
        backends: ['redis', 'sqs'],
        limit: undefined,
      },
      connection: { namespace: 'ns' },
    },
  },
];

const REFUSED: { line: string; problem: string }[] = [
  { line: 'status', problem: 'status: missing <name>' },
  { line: 'status a b', problem: 'status: unexpected argument b' },
  { line: 'pause', problem: 'pause: missing <name>' },
  { line: 'frobnicate x', problem: 'unknown command frobnicate' },
  { line: 'status x --colour', problem: 'unknown flag --colour' },
  { line: 'status x -n', problem: '-n needs a value' },
  { line: 'status x -n a -n b', problem: '-n given twice' },
  { line: 'status x -A', problem: 'status does not take --all-namespaces' },
  { line: 'list -A -n ns', problem: 'list: -A and -n exclude each other' },
  { line: 'list extra', problem: 'list: unexpected argument extra' },
  { line: 'list -A=yes', problem: '-A takes no value' },
  { line: 'abort x --limit 3', problem: 'abort does not take --limit' },
  { line: 'dlq', problem: 'dlq: missing subcommand (list, inspect or redrive)' },
  { line: 'dlq purge x', problem: 'dlq: unknown subcommand purge' },
  { line: 'dlq list', problem: 'dlq list: missing <name>' },
  { line: 'dlq inspect x', problem: 'dlq inspect: missing <id>' },
  { line: 'dlq inspect x 1-0 --limit 2', problem: 'dlq inspect does not take --limit' },
  { line: 'dlq list x --backend kafka', problem: '--backend must be redis or sqs, not kafka' },
  { line: 'dlq list x --limit 0', problem: '--limit must be a whole number from 1 to 999999, not 0' },
  {
    line: 'dlq redrive x 1-0 --limit 2',
    problem: 'dlq redrive: --limit goes with redriving all, not one id',
  },
  { line: 'dlq list x -A', problem: 'dlq does not take --all-namespaces' },
  {
    line: 'pause x/status',
    problem: `"x/status" is not a QueueMigration name (a DNS subdomain: lower case letters, digits, '-', '.')`,
  },
  {
    line: 'list -n ../kube-system',
    problem: `"../kube-system" is not a namespace name (a DNS label: lower case letters, digits, '-')`,
  },
];

const words = (line: string): string[] => line.split(' ').filter((word) => word !== '');

describe('kubectl queueshift argument parsing', () => {
  it.each(ACCEPTED)('$line', ({ line, expected }) => {
    expect(parsePluginArgs(words(line))).toEqual(expected);
  });

  it.each(REFUSED)('refuses "$line" with exit code 2: $problem', ({ line, problem }) => {
    let thrown: unknown;
    try {
      parsePluginArgs(words(line));
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(PluginError);
    expect(thrown).toMatchObject({ code: 'PLUGIN_USAGE', message: problem, exitCode: EXIT_USAGE });
  });

  it('takes everything after -- as operands', () => {
    expect(parsePluginArgs(['dlq', 'inspect', 'hooks', '--', '-1'])).toMatchObject({
      command: { kind: 'dlq-inspect', id: '-1' },
    });
  });
});
