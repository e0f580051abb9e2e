import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { durationMs, withScaledForDurations } from '../../env/prometheus-rules.ts';

const file = (relative: string): string => fileURLToPath(new URL(relative, import.meta.url));
const RULES_FILE = file('../../../config/prometheus/queueshift-alerts.yaml');
const RULE_TESTS_FILE = file('../../../config/prometheus/queueshift-alerts.test.yaml');

/** Runs promtool; resolves with its exit status and everything it wrote. */
function promtool(...args: string[]): { status: number | null; output: string } {
  const result = spawnSync('promtool', args, { encoding: 'utf8', timeout: 60_000 });
  if (result.error) throw result.error;
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

describe('the alerting rules file', () => {
  it('passes `promtool check rules`', () => {
    const { status, output } = promtool('check', 'rules', RULES_FILE);
    expect(status, output).toBe(0);
    expect(output).toMatch(/SUCCESS: [1-9]\d* rules found/);
  });

  it('passes its promtool unit tests: thresholds and `for` timings', () => {
    const { status, output } = promtool('test', 'rules', RULE_TESTS_FILE);
    expect(status, output).toBe(0);
    expect(output).toContain('SUCCESS');
  });

  it('scaled for the live tests, differs from the committed file in its `for` values only', () => {
    const lines = fs.readFileSync(RULES_FILE, 'utf8').split('\n');
    const scaled = withScaledForDurations(lines.join('\n'), 60).split('\n');
    expect(scaled).toHaveLength(lines.length);
    const changed = lines.flatMap((line, index) => {
      const after = scaled[index] ?? '';
      return line === after ? [] : [{ line, after }];
    });
    expect(changed.length).toBe(lines.filter((line) => /^\s+for:/.test(line)).length);
    for (const { line, after } of changed) {
      const [, key, value] = /^(\s+for:\s*)(\S+)$/.exec(line) ?? [];
      const [, scaledKey, scaledValue] = /^(\s+for:\s*)(\S+)$/.exec(after) ?? [];
      expect(scaledKey).toBe(key);
      expect(durationMs(scaledValue ?? '') * 60).toBe(durationMs(value ?? ''));
    }
  });

  it('keeps the lines around a `for` value as they are', () => {
    const text = '        for: 5m\n\n  - name: next\n';
    expect(withScaledForDurations(text, 60)).toBe('        for: 5000ms\n\n  - name: next\n');
  });

  it('refuses to scale a `for` value it cannot read', () => {
    expect(() => withScaledForDurations('        for: 1.5m\n', 60)).toThrow(/not a Prometheus duration/);
  });
});
