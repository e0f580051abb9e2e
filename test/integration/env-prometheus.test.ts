import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LOOPBACK } from '../env/ports.ts';
import { queryPrometheus, type PrometheusSample } from '../env/prometheus.ts';
import { required } from '../env/test-environment.ts';
import { waitUntil } from '../env/wait.ts';

/** Discovery and the first scrapes of a new target take a few scrape intervals. */
const SCRAPE_WAIT = { timeoutMs: 30_000, intervalMs: 500 };

/** A query that waits for at least one series to come back. */
function firstSample(url: string, promql: string): Promise<PrometheusSample> {
  return waitUntil(async () => (await queryPrometheus(url, promql))[0], {
    what: `prometheus at ${url} to answer \`${promql}\``,
    ...SCRAPE_WAIT,
  });
}

/** Serves one gauge on /metrics, on a loopback port the kernel picks. */
async function serveMetric(line: string): Promise<{ port: number; close: () => Promise<void> }> {
  const server = http.createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
    response.end(`${line}\n`);
  });
  server.listen(0, LOOPBACK);
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    close: async () => {
      server.close();
      await once(server, 'close');
    },
  };
}

describe('prometheus', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('is ready and scrapes itself', async () => {
    const { url } = required('prometheus');
    expect((await fetch(`${url}/-/ready`)).status).toBe(200);
    const up = await firstSample(url, 'up{job="prometheus"} == 1');
    expect(up.value).toBe(1);
    expect(up.labels['instance']).toBe(new URL(url).host);
  });

  it('scrapes a target written into the discovery folder, with its labels', async () => {
    const { url, fileSdDir } = required('prometheus');
    const pod = `env-test-${randomUUID()}`;
    const target = await serveMetric(`queueshift_env_probe{source="test"} 42`);
    cleanups.push(target.close);

    const file = path.join(fileSdDir, `${pod}.json`);
    const targets = [
      {
        targets: [`${LOOPBACK}:${target.port}`],
        labels: { namespace: 'env-test', pod, deployment: 'env-probe' },
      },
    ];
    // Written aside and renamed, so that discovery never reads a half-written file.
    fs.writeFileSync(`${file}.tmp`, JSON.stringify(targets));
    fs.renameSync(`${file}.tmp`, file);
    cleanups.push(() => {
      fs.rmSync(file, { force: true });
    });

    const sample = await firstSample(url, `queueshift_env_probe{pod="${pod}"}`);
    expect(sample.value).toBe(42);
    expect(sample.labels).toMatchObject({
      job: 'pods',
      instance: `${LOOPBACK}:${target.port}`,
      namespace: 'env-test',
      pod,
      deployment: 'env-probe',
      source: 'test',
    });
  });

  it('reports a bad query with the query and the server in the error', async () => {
    const { url } = required('prometheus');
    await expect(queryPrometheus(url, 'up{')).rejects.toThrow(
      /`up\{` at http:\/\/127\.0\.0\.1:\d+ failed \(HTTP 400\): bad_data/,
    );
  });
});
