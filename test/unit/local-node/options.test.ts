import { describe, expect, it } from 'vitest';
import { optionArgs, parseOptions } from '../../env/local-node/options.ts';

describe('local node options', () => {
  const required = ['--kubeconfig', '/k', '--state-dir', '/s', '--repo-root', '/r'];

  it('applies defaults', () => {
    expect(parseOptions(required)).toEqual({
      kubeconfig: '/k',
      stateDir: '/s',
      repoRoot: '/r',
      nodeName: 'local-node',
      backoffBaseMs: 10_000,
      heartbeatMs: 10_000,
      resyncMs: 120_000,
      kubeletVersion: 'v1.34.4',
      cpu: '2',
    });
  });

  it('round-trips through optionArgs', () => {
    const options = { ...parseOptions(required), fileSdDir: '/t', backoffBaseMs: 500, nodeName: 'n2' };
    expect(parseOptions(optionArgs(options))).toEqual(options);
  });

  it.each([
    [[], '--kubeconfig is required'],
    [[...required, '--backoff-base-ms', '0'], '--backoff-base-ms must be a positive integer, got "0"'],
    [[...required, '--heartbeat-ms', 'soon'], '--heartbeat-ms must be a positive integer, got "soon"'],
    [[...required, '--node-name', 'Bad_Name'], '--node-name must be a DNS subdomain, got "Bad_Name"'],
  ])('rejects %j', (argv, message) => {
    expect(() => parseOptions(argv)).toThrow(message);
  });

  it('rejects unknown flags', () => {
    expect(() => parseOptions([...required, '--nope'])).toThrow(/nope/);
  });
});
