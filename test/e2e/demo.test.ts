import { spawn } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { kubeTools } from '../env/local-node/e2e-support.ts';
import { required } from '../env/test-environment.ts';

const DEMO = path.resolve(import.meta.dirname, '../../scripts/demo/demo.ts');

interface DemoRun {
  code: number | null;
  /** stdout and stderr interleaved, as a person reading a pipe sees them. */
  output: string;
}

/** The demo's entry as `npm run demo` ends up running it, its output a pipe (not a terminal). */
function runDemo(args: readonly string[]): Promise<DemoRun> {
  return new Promise((resolve) => {
    let output = '';
    const child = spawn(process.execPath, [DEMO, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    for (const stream of [child.stdout, child.stderr]) {
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => (output += chunk));
    }
    child.on('close', (code) => {
      resolve({ code, output });
    });
  });
}

// The demo on the running environment, as a newcomer runs it after `npm run demo` provisioned
// and built: the pipeline on SQS under signed load, migrated by the operator, counted at the end.
describe('npm run demo', () => {
  it(
    'migrates the live pipeline to Redis Streams and reports nothing lost and nothing handled twice',
    { timeout: 300_000 },
    async () => {
      const run = await runDemo(['--rate', '30']);

      expect(run.code, run.output).toBe(0);
      expect(run.output).toContain('== demo: migration at 30/s');
      expect(run.output).toMatch(/lost 0, handled twice 0, non-2xx none/);
      // Every stage was entered, in order, and the migration completed.
      const reached = [...run.output.matchAll(/^ {2}(\w+) +\d{4}-\d\d-\d\dT/gm)].map((m) => m[1]);
      expect(reached).toEqual(
        expect.arrayContaining(['DualStarted', 'StagingStarted', 'CanaryStepStarted', 'FullStarted']),
      );
      expect(reached.at(-1)).toBe('Succeeded');
      expect(reached.indexOf('DualStarted')).toBeLessThan(reached.indexOf('FullStarted'));
      // Not a terminal: one plain line per transition, no cursor movement.
      expect(run.output).not.toContain('\x1b[');
      expect(run.output).toMatch(/^\[\d\d:\d\d\] Progressing canary 1\/1 — /m);
      expect(run.output).toContain('`npm run env:down` stops it');

      // What the demo made is gone: its namespace is being deleted or already is.
      const namespace = /namespace (queueshift-demo-[a-z0-9]+)/.exec(run.output)?.[1] ?? '';
      const phase = await kubeTools(required('kube'))
        .core.readNamespace({ name: namespace })
        .then(
          (ns) => ns.status?.phase,
          () => 'gone',
        );
      expect(['Terminating', 'gone']).toContain(phase);
    },
  );
});
