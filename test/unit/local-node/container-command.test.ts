import { describe, expect, it } from 'vitest';
import { resolveCommand } from '../../env/local-node/container-command.ts';

const mapping = { nodePath: '/opt/node22/bin/node', cliPath: '/repo/dist/src/cli/main.js' };

describe('image to host command mapping', () => {
  it('runs a queueshift image as this checkout’s CLI with the container args', () => {
    expect(
      resolveCommand(
        {
          name: 'worker',
          image: 'ghcr.io/acme/queueshift:1.2',
          command: ['ignored'],
          args: ['worker', '--id=$(POD_NAME)'],
        },
        { POD_NAME: 'w-1' },
        mapping,
      ),
    ).toEqual({ ok: true, command: mapping.nodePath, args: [mapping.cliPath, 'worker', '--id=w-1'] });
  });

  it('runs any other image’s command and args on the host, mapping node to the local node’s Node', () => {
    expect(
      resolveCommand(
        { name: 'web', image: 'node:22', command: ['node', '-e', 'x'], args: ['$(A)'] },
        { A: 'a' },
        mapping,
      ),
    ).toEqual({ ok: true, command: mapping.nodePath, args: ['-e', 'x', 'a'] });
    expect(
      resolveCommand({ name: 'sh', image: 'debian', command: ['sh', '-c', 'true'] }, {}, mapping),
    ).toEqual({
      ok: true,
      command: 'sh',
      args: ['-c', 'true'],
    });
  });

  it('refuses an image it cannot map when the container has no command', () => {
    const result = resolveCommand({ name: 'cache', image: 'redis:7', args: ['--port', '6379'] }, {}, mapping);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.reason).toBe('CreateContainerError');
      expect(result.message).toContain('redis:7');
      expect(result.message).toContain('give container "cache" a command');
    }
  });
});
