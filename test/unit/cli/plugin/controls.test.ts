import { describe, expect, it } from 'vitest';
import { controlPatch, controlToken } from '../../../../src/cli/plugin/control-patch.ts';
import { kubeconfigFiles } from '../../../../src/cli/plugin/kube-session.ts';

describe('control patches', () => {
  it.each([
    ['pause', { spec: { paused: true } }],
    ['resume', { spec: { paused: false } }],
    ['promote', { metadata: { annotations: { 'queueshift.dev/promote': 'tok' } } }],
    ['abort', { metadata: { annotations: { 'queueshift.dev/abort': 'tok' } } }],
    ['retry', { metadata: { annotations: { 'queueshift.dev/retry': 'tok' } } }],
  ] as const)('%s touches only its own field', (action, patch) => {
    expect(controlPatch(action, 'tok')).toEqual(patch);
  });

  it('makes a token that differs per invocation and fits the status field (253 characters)', () => {
    const now = Date.parse('2026-11-26T08:00:00.123Z');
    expect(controlToken(now, 'a1b2c3d4')).toBe('2026-11-26T08:00:00.123Z-a1b2c3d4');
    expect(controlToken(now, 'a1b2c3d4')).not.toBe(controlToken(now, 'e5f6a7b8'));
  });
});

describe('the kubeconfig files kubectl would read', () => {
  const exists = (file: string): boolean => !file.includes('missing');

  it.each([
    { flags: { kubeconfig: '/flag' }, env: { KUBECONFIG: '/env', HOME: '/home/u' }, files: ['/flag'] },
    { flags: {}, env: { KUBECONFIG: '/a:/missing:/b', HOME: '/home/u' }, files: ['/a', '/b'] },
    { flags: {}, env: { HOME: '/home/u' }, files: ['/home/u/.kube/config'] },
    { flags: {}, env: { KUBECONFIG: '', HOME: '/home/missing' }, files: [] },
  ])('--kubeconfig $flags.kubeconfig, KUBECONFIG $env.KUBECONFIG: $files', ({ flags, env, files }) => {
    expect(kubeconfigFiles(flags, env, exists)).toEqual(files);
  });
});
