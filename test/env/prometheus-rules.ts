import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, LOOPBACK } from './ports.ts';
import { waitUntil } from './wait.ts';

/** Scrapes and rule evaluations every second, so that alerts move within seconds in tests. */
const INTERVAL = '1s';
const STOP_GRACE_MS = 10_000;

/** A target to scrape at /metrics, with the labels a pod's scrape would give it (`namespace`, ...). */
export interface ScrapeTarget {
  address: string;
  labels: Record<string, string>;
}

/** A rule as /api/v1/rules reports it, after Prometheus parsed the rules file. */
export interface LoadedRule {
  type: 'alerting' | 'recording';
  name: string;
  query: string;
  /** Alerting rules: the `for` duration, in seconds. */
  duration?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  /** `unknown` until its first evaluation, then `ok`, or `err` with `lastError`. */
  health: 'unknown' | 'ok' | 'err';
  lastError?: string;
}

/** An alert as /api/v1/alerts reports it. */
export interface ActiveAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  state: 'pending' | 'firing';
  value: string;
}

interface ApiAnswer<T> {
  status: 'success' | 'error';
  data?: T;
  errorType?: string;
  error?: string;
}

const DURATION_UNITS_MS: Record<string, number> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

/** A Prometheus duration (`10m`, `1h30m`, `500ms`) in milliseconds; throws on anything else. */
export function durationMs(text: string): number {
  const parts = [...text.matchAll(/(\d+)(ms|s|m|h|d|w)/g)];
  if (parts.length === 0 || parts.map((part) => part[0]).join('') !== text) {
    throw new Error(`"${text}" is not a Prometheus duration this helper reads (e.g. 10m, 1h30m, 500ms)`);
  }
  return parts.reduce(
    (total, [, count, unit]) => total + Number(count) * (DURATION_UNITS_MS[unit ?? ''] ?? 0),
    0,
  );
}

/**
 * The rules file's text with every `for:` duration divided by `divisor`, and nothing else
 * changed: live tests then wait seconds where the committed rules wait minutes (divisor 60 turns
 * `for: 10m` into `for: 10000ms`), while promtool's unit tests check the real durations.
 */
export function withScaledForDurations(rulesText: string, divisor: number): string {
  return rulesText.replace(/^([ \t]+for:[ \t]*)(\S+)[ \t]*$/gm, (_line, key: string, value: string) => {
    return `${key}${String(Math.round(durationMs(value) / divisor))}ms`;
  });
}

async function api<T>(url: string, what: string): Promise<T> {
  const response = await fetch(url, { signal: AbortSignal.timeout(5_000) });
  const body = (await response.json()) as ApiAnswer<T>;
  if (body.status !== 'success' || body.data === undefined) {
    throw new Error(
      `${what} at ${url} failed (HTTP ${response.status}): ${body.errorType ?? ''}: ${body.error ?? ''}`,
    );
  }
  return body.data;
}

/**
 * A Prometheus of a test's own, on a free loopback port with fresh storage: it loads one rules
 * file, evaluates it every second, and scrapes the targets given to `scrape` (file-based
 * discovery, so targets can come and go while it runs). The environment's shared Prometheus is
 * never touched.
 */
export class RulesPrometheus {
  readonly url: string;
  private readonly dir: string;
  private readonly targetsFile: string;
  private readonly child: ChildProcess;
  private readonly exited: Promise<void>;

  private constructor(port: number, dir: string, rulesFile: string) {
    this.url = `http://${LOOPBACK}:${String(port)}`;
    this.dir = dir;
    this.targetsFile = path.join(dir, 'targets.json');
    this.scrape([]);
    const configFile = path.join(dir, 'prometheus.yml');
    const config = {
      global: { scrape_interval: INTERVAL, scrape_timeout: INTERVAL, evaluation_interval: INTERVAL },
      rule_files: [rulesFile],
      scrape_configs: [
        { job_name: 'pods', file_sd_configs: [{ files: [this.targetsFile], refresh_interval: INTERVAL }] },
      ],
    };
    // JSON is YAML, and JSON.stringify quotes paths correctly.
    fs.writeFileSync(configFile, JSON.stringify(config, null, 2));
    const log = fs.openSync(path.join(dir, 'prometheus.log'), 'w');
    this.child = spawn(
      'prometheus',
      [
        `--config.file=${configFile}`,
        `--storage.tsdb.path=${path.join(dir, 'data')}`,
        `--web.listen-address=${LOOPBACK}:${String(port)}`,
      ],
      { stdio: ['ignore', 'ignore', log] },
    );
    // The child has its own copy of the descriptor.
    fs.closeSync(log);
    this.exited = new Promise((resolve) => {
      this.child.once('exit', () => {
        resolve();
      });
    });
  }

  /** Starts it with the rules in `rulesText` (written to a file of its own); resolves once ready. */
  static async start(rulesText: string): Promise<RulesPrometheus> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'queueshift-rules-prometheus-'));
    const rulesFile = path.join(dir, 'rules.yaml');
    fs.writeFileSync(rulesFile, rulesText);
    const prometheus = new RulesPrometheus(await freePort(), dir, rulesFile);
    await waitUntil(
      async () => {
        if (prometheus.child.exitCode !== null) throw new Error(`exited: ${prometheus.log()}`);
        return (await fetch(`${prometheus.url}/-/ready`)).ok;
      },
      { what: `the test's prometheus at ${prometheus.url} to be ready`, timeoutMs: 30_000, intervalMs: 200 },
    );
    return prometheus;
  }

  /** Replaces the scraped targets (written aside and renamed: discovery never reads half a file). */
  scrape(targets: readonly ScrapeTarget[]): void {
    const groups = targets.map((target) => ({ targets: [target.address], labels: target.labels }));
    fs.writeFileSync(`${this.targetsFile}.tmp`, JSON.stringify(groups));
    fs.renameSync(`${this.targetsFile}.tmp`, this.targetsFile);
  }

  async rules(): Promise<LoadedRule[]> {
    const data = await api<{ groups: { rules: LoadedRule[] }[] }>(
      `${this.url}/api/v1/rules`,
      'listing rules',
    );
    return data.groups.flatMap((group) => group.rules);
  }

  async alerts(): Promise<ActiveAlert[]> {
    return (await api<{ alerts: ActiveAlert[] }>(`${this.url}/api/v1/alerts`, 'listing alerts')).alerts;
  }

  /** Evaluates `promql` now; resolves with the number of series, rejects with the parse error. */
  async seriesCount(promql: string): Promise<number> {
    const query = new URLSearchParams({ query: promql }).toString();
    const data = await api<{ result: unknown }>(`${this.url}/api/v1/query?${query}`, `query \`${promql}\``);
    return Array.isArray(data.result) ? data.result.length : 1;
  }

  log(): string {
    return fs.readFileSync(path.join(this.dir, 'prometheus.log'), 'utf8');
  }

  /** SIGTERM, SIGKILL after a grace; then its storage goes. */
  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), STOP_GRACE_MS);
      await this.exited;
      clearTimeout(timer);
    }
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
