import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  isAlive,
  killMarkedProcesses,
  markedProcesses,
  startDaemon,
  stopProcessGroup,
} from '../../env/processes.ts';
import { waitUntil } from '../../env/wait.ts';

// env:down relies on these to leave nothing running, including children of crashed parents.
describe('environment processes', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qs-processes-'));
  const marker = `${dir}-marker`;
  afterEach(async () => {
    await killMarkedProcesses(marker);
  });

  const node = (name: string, script: string): number =>
    startDaemon({ name, command: process.execPath, args: ['-e', script] }, dir, marker).pid;

  it('stops a daemon that exits on SIGTERM within the grace period', async () => {
    const pid = node('polite', `process.on('SIGTERM', () => process.exit(0)); setInterval(() => {}, 1000)`);
    await waitUntil(() => markedProcesses(marker).includes(pid), { what: 'the daemon to start' });
    const started = Date.now();
    await stopProcessGroup(pid, 5_000);
    expect(isAlive(pid)).toBe(false);
    expect(Date.now() - started).toBeLessThan(4_000);
  });

  it('escalates to SIGKILL when SIGTERM is ignored, and takes the whole process group', async () => {
    const pid = node(
      'stubborn',
      `process.on('SIGTERM', () => {});
       require('node:child_process').spawn(process.execPath, ['-e', 'process.on("SIGTERM", () => {}); setInterval(() => {}, 1000)'], { stdio: 'ignore' });
       setInterval(() => {}, 1000)`,
    );
    await waitUntil(() => markedProcesses(marker).length === 2, {
      what: 'the daemon and its child to start',
    });
    await stopProcessGroup(pid, 300);
    // A process killed a moment ago can still be listed until the kernel has torn it down.
    await waitUntil(() => markedProcesses(marker).length === 0, {
      what: 'the daemon and its child to be gone after SIGKILL',
      timeoutMs: 5_000,
    });
  });

  it('finds and kills marked processes whose parent is gone', async () => {
    const pid = node(
      'orphan-maker',
      `require('node:child_process').spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore', detached: true }).unref();
       setTimeout(() => process.exit(0), 200)`,
    );
    await waitUntil(() => !isAlive(pid) && markedProcesses(marker).length === 1, {
      what: 'the orphan to remain',
    });
    const killed = await killMarkedProcesses(marker);
    expect(killed).toHaveLength(1);
    expect(markedProcesses(marker)).toEqual([]);
  });

  it('appends daemon output to its log file', async () => {
    const pid = node('talker', `console.log('hello from the daemon')`);
    await waitUntil(() => !isAlive(pid), { what: 'the daemon to exit' });
    expect(fs.readFileSync(path.join(dir, 'talker.log'), 'utf8')).toContain('hello from the daemon');
  });
});
