import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ContainerProcess } from '../../env/local-node/container-process.ts';
import { isProcessRunning } from '../../env/local-node/e2e-support.ts';
import { waitUntil } from '../../env/wait.ts';

// Scaling to zero must leave no process and no open port behind, whatever the program does.
describe('container processes', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qs-container-'));
  afterAll(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const start = (script: string, name: string): ContainerProcess =>
    ContainerProcess.start({
      command: process.execPath,
      args: ['-e', script],
      env: { PATH: process.env['PATH'] ?? '', CHILD_PID_FILE: path.join(dir, `${name}.child`) },
      cwd: dir,
      logFile: path.join(dir, `${name}.log`),
    });
  /** Starts a grandchild that ignores SIGTERM, records its pid, then runs `rest`. */
  const withChild = (rest: string): string => `
    const { spawn } = require('node:child_process');
    const child = spawn(process.execPath, ['-e', "process.on('SIGTERM', () => {}); setInterval(() => {}, 1000)"], { stdio: 'ignore' });
    require('node:fs').writeFileSync(process.env.CHILD_PID_FILE, String(child.pid));
    console.log('started');
    ${rest}`;
  const childPid = async (name: string): Promise<number> =>
    Number(
      await waitUntil(
        () =>
          fs.existsSync(path.join(dir, `${name}.child`)) &&
          fs.readFileSync(path.join(dir, `${name}.child`), 'utf8'),
        {
          what: `${name} to start its child`,
        },
      ),
    );

  it('reports the exit code and appends output to the log file', async () => {
    const exit = await start(`console.log('hello'); console.error('oops'); process.exit(7)`, 'exits').exited;
    expect(exit.exitCode).toBe(7);
    expect(exit.signal).toBeUndefined();
    expect(fs.readFileSync(path.join(dir, 'exits.log'), 'utf8')).toBe('hello\noops\n');
  });

  it('stops with SIGTERM, then SIGKILL after the grace period, taking the whole process group', async () => {
    const process = start(
      withChild(`process.on('SIGTERM', () => {}); setInterval(() => {}, 1000)`),
      'stubborn',
    );
    const child = await childPid('stubborn');
    const started = Date.now();
    const exit = await process.stop(300);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(exit.exitCode).toBe(137);
    expect(exit.signal).toBe(9);
    await waitUntil(() => !isProcessRunning(child), { what: 'the child to be killed', timeoutMs: 2_000 });
  });

  it('kills what a container left behind when its main process exits', async () => {
    const process = start(withChild(`setTimeout(() => process.exit(0), 50)`), 'leaves-child');
    const child = await childPid('leaves-child');
    expect((await process.exited).exitCode).toBe(0);
    await waitUntil(() => !isProcessRunning(child), {
      what: 'the orphaned child to be killed',
      timeoutMs: 2_000,
    });
  });

  it('reports a program that cannot start', async () => {
    const process = ContainerProcess.start({
      command: path.join(dir, 'no-such-program'),
      args: [],
      env: {},
      cwd: dir,
      logFile: path.join(dir, 'missing.log'),
    });
    const exit = await process.exited;
    expect(exit.exitCode).toBe(128);
    expect(exit.startError).toMatch(/ENOENT/);
  });
});
