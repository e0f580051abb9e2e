import fs from 'node:fs';
import path from 'node:path';
import type { EnvContext } from './context.ts';
import { freePort, LOOPBACK } from './ports.ts';
import { waitForDaemon } from './readiness.ts';
import type { PrometheusEndpoint } from './state.ts';

/** Short intervals so that gates reading Prometheus see a change within seconds in tests. */
const SCRAPE_INTERVAL = '1s';
const FILE_SD_REFRESH = '1s';

/** Scrapes itself, and every target the local node writes as `<fileSdDir>/*.json`. */
function configText(port: number, fileSdDir: string): string {
  // JSON is valid YAML, and JSON.stringify quotes paths and addresses correctly.
  const config = {
    global: {
      scrape_interval: SCRAPE_INTERVAL,
      scrape_timeout: SCRAPE_INTERVAL,
      evaluation_interval: SCRAPE_INTERVAL,
    },
    scrape_configs: [
      { job_name: 'prometheus', static_configs: [{ targets: [`${LOOPBACK}:${port}`] }] },
      {
        job_name: 'pods',
        file_sd_configs: [{ files: [path.join(fileSdDir, '*.json')], refresh_interval: FILE_SD_REFRESH }],
      },
    ],
  };
  return JSON.stringify(config, null, 2) + '\n';
}

async function isReady(url: string): Promise<boolean> {
  const response = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(2_000) });
  return response.ok;
}

/**
 * Prometheus on loopback with fresh storage and an empty target folder (targets of an earlier
 * environment point at ports that are gone). Resolves once /-/ready answers.
 */
export async function startPrometheus(ctx: EnvContext): Promise<void> {
  const name = 'prometheus';
  const dir = ctx.dir(name);
  const dataDir = path.join(dir, 'data');
  const fileSdDir = path.join(dir, 'targets');
  for (const fresh of [dataDir, fileSdDir]) {
    fs.rmSync(fresh, { recursive: true, force: true });
    fs.mkdirSync(fresh, { recursive: true });
  }
  const port = await freePort();
  const configFile = path.join(dir, 'prometheus.yml');
  fs.writeFileSync(configFile, configText(port, fileSdDir));
  const endpoint: PrometheusEndpoint = { daemon: name, url: `http://${LOOPBACK}:${port}`, fileSdDir };
  const record = ctx.startDaemon({
    name,
    command: 'prometheus',
    args: [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${dataDir}`,
      `--storage.tsdb.retention.time=1d`,
      `--web.listen-address=${LOOPBACK}:${port}`,
    ],
  });
  await waitForDaemon(record, () => isReady(endpoint.url), {
    what: `prometheus at ${endpoint.url} to be ready`,
    timeoutMs: 60_000,
    intervalMs: 250,
  });
  ctx.state.prometheus = endpoint;
  ctx.save();
  ctx.info(`prometheus at ${endpoint.url}, file discovery in ${fileSdDir}`);
}

/** One series of an instant query's result. */
export interface PrometheusSample {
  labels: Record<string, string>;
  value: number;
  /** Evaluation time, in milliseconds since the epoch. */
  timestampMs: number;
}

type SampleJson = [number, string];

/** The parts of the /api/v1/query response used here. */
type QueryResponse =
  | {
      status: 'success';
      data:
        | { resultType: 'vector'; result: { metric: Record<string, string>; value: SampleJson }[] }
        | { resultType: 'scalar'; result: SampleJson }
        | { resultType: 'matrix' | 'string'; result: unknown };
    }
  | { status: 'error'; errorType: string; error: string };

function sample(labels: Record<string, string>, [seconds, value]: SampleJson): PrometheusSample {
  return { labels, value: Number(value), timestampMs: seconds * 1_000 };
}

/**
 * Instant query; a vector comes back as one sample per series, a scalar as one sample without
 * labels. Errors name the query and the server.
 */
export async function queryPrometheus(url: string, promql: string): Promise<PrometheusSample[]> {
  const what = `prometheus query \`${promql}\` at ${url}`;
  const response = await fetch(`${url}/api/v1/query?${new URLSearchParams({ query: promql }).toString()}`, {
    signal: AbortSignal.timeout(5_000),
  }).catch((error: unknown) => {
    throw new Error(`${what} failed: ${(error as Error).message}`, { cause: error });
  });
  // Prometheus answers errors (400 bad query, 422 execution, 503 timeout) with the same JSON body.
  const body = (await response.json().catch(() => undefined)) as QueryResponse | undefined;
  if (!body) throw new Error(`${what} answered HTTP ${response.status} without a JSON body`);
  if (body.status === 'error')
    throw new Error(`${what} failed (HTTP ${response.status}): ${body.errorType}: ${body.error}`);
  const { data } = body;
  switch (data.resultType) {
    case 'vector':
      return data.result.map((series) => sample(series.metric, series.value));
    case 'scalar':
      return [sample({}, data.result)];
    default:
      throw new Error(
        `${what} returned a ${data.resultType}; only instant vectors and scalars are supported`,
      );
  }
}
