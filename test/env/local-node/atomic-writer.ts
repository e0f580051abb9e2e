import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { VolumeFile } from './volume-content.ts';

/** A digest of a volume's contents, to skip rewriting what did not change. */
export function fingerprint(files: ReadonlyMap<string, VolumeFile>): string {
  const hash = crypto.createHash('sha256');
  for (const key of [...files.keys()].sort()) {
    const file = files.get(key);
    if (!file) continue;
    hash.update(`${key}\0${file.mode}\0${file.data.length}\0`);
    hash.update(file.data);
  }
  return hash.digest('hex');
}

/**
 * Replaces a volume's contents in one step, the kubelet's way (AtomicWriter): the files go into a
 * fresh hidden folder, the `..data` symlink is renamed to point at it, and each top-level entry is
 * a symlink through `..data`. A process reading the volume (through a bind mount of `dir`) sees
 * either the old or the new set of files, never a mix.
 */
export function writeVolumeAtomically(dir: string, files: ReadonlyMap<string, VolumeFile>): void {
  fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
  const stamp = `..${Date.now().toString(36)}_${crypto.randomBytes(4).toString('hex')}`;
  const dataDir = path.join(dir, stamp);
  fs.mkdirSync(dataDir, { mode: 0o755 });
  for (const [relative, file] of files) {
    const target = path.join(dataDir, relative);
    fs.mkdirSync(path.dirname(target), { recursive: true, mode: 0o755 });
    fs.writeFileSync(target, file.data);
    fs.chmodSync(target, file.mode & 0o777);
  }
  const temporaryLink = path.join(dir, '..data_tmp');
  fs.rmSync(temporaryLink, { force: true });
  fs.symlinkSync(stamp, temporaryLink);
  fs.renameSync(temporaryLink, path.join(dir, '..data'));

  const top = new Set([...files.keys()].map((relative) => relative.split('/')[0] ?? relative));
  for (const name of top) {
    const link = path.join(dir, name);
    let exists = true;
    try {
      fs.lstatSync(link);
    } catch {
      exists = false;
    }
    if (!exists) fs.symlinkSync(path.join('..data', name), link);
  }
  for (const entry of fs.readdirSync(dir)) {
    if (entry === '..data' || entry === stamp) continue;
    if (entry.startsWith('..') || !top.has(entry))
      fs.rmSync(path.join(dir, entry), { recursive: true, force: true });
  }
}
