import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeVolumeAtomically } from '../../env/local-node/atomic-writer.ts';
import { containerMounts, mountWrapper } from '../../env/local-node/mount-namespace.ts';

describe('container mounts', () => {
  const volumes = [
    { name: 'secret', secret: { secretName: 's' } },
    { name: 'scratch', emptyDir: {} },
  ];
  const dir = (name: string): string => `/state/pods/ns_p/volumes/${name}`;

  it('maps volumeMounts to bind mounts; secret-like volumes are read-only', () => {
    const result = containerMounts(
      {
        name: 'c',
        volumeMounts: [
          { name: 'secret', mountPath: '/etc/secret/' },
          { name: 'scratch', mountPath: '/data', subPathExpr: '$(POD_NAME)' },
          { name: 'scratch', mountPath: '/ro', readOnly: true, subPath: 'x' },
        ],
      },
      volumes,
      dir,
      { POD_NAME: 'p-1' },
    );
    expect(result).toEqual({
      ok: true,
      mounts: [
        { source: dir('secret'), target: '/etc/secret/', readOnly: true },
        { source: `${dir('scratch')}/p-1`, target: '/data', readOnly: false },
        { source: `${dir('scratch')}/x`, target: '/ro', readOnly: true },
      ],
    });
  });

  it.each([
    [{ name: 'nope', mountPath: '/x' }, 'volumeMount "nope" refers to no volume of the pod'],
    [
      { name: 'scratch', mountPath: 'relative' },
      'volumeMount "scratch": mountPath "relative" is not absolute',
    ],
    [
      { name: 'scratch', mountPath: '/x', subPath: '../up' },
      'volumeMount "scratch": subPath "../up" must be a relative path inside the volume',
    ],
  ])('rejects %j', (mount, message) => {
    expect(containerMounts({ name: 'c', volumeMounts: [mount] }, volumes, dir, {})).toEqual({
      ok: false,
      message,
    });
  });

  // Runs the real wrapper: needs root and util-linux's unshare, as the local node does.
  it.runIf(process.getuid?.() === 0 && fs.existsSync('/usr/bin/unshare'))(
    'shows the volume at its mount path inside the namespace only, read-only, and follows atomic updates',
    () => {
      const root = fs.mkdtempSync(path.join(os.tmpdir(), 'qs-mounts-'));
      const volume = path.join(root, 'volume');
      writeVolumeAtomically(volume, new Map([['key', { data: Buffer.from('v1'), mode: 0o644 }]]));
      writeVolumeAtomically(volume, new Map([['key', { data: Buffer.from('v2'), mode: 0o644 }]]));
      const target = path.join(root, 'mounted', 'secret');
      const script = `cat ${target}/key; (echo x > ${target}/new) 2>/dev/null && echo writable || echo read-only`;
      const wrapped = mountWrapper([{ source: volume, target, readOnly: true }], 'sh', ['-c', script]);
      const output = execFileSync(wrapped.command, wrapped.args, { encoding: 'utf8' });
      expect(output).toBe('v2read-only\n');
      expect(fs.readdirSync(target)).toEqual([]);
      // One data folder, the ..data link and the key's link: the old generation is gone.
      const entries = fs.readdirSync(volume);
      expect(entries).toHaveLength(3);
      expect(entries).toEqual(expect.arrayContaining(['..data', 'key']));
      fs.rmSync(root, { recursive: true });
    },
  );
});
