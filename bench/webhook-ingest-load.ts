/**
 * autocannon driving signed GitHub deliveries: one real payload, signed once (the signature covers
 * the body only), and a fresh X-GitHub-Delivery on every request, as GitHub sends them.
 */
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { sign } from '@octokit/webhooks-methods';

/** The part of autocannon's result this benchmark reads (the package ships no types). */
export interface LoadResult {
  requests: { average: number; total: number };
  latency: { p50: number; p99: number; average: number; max: number };
  non2xx: number;
  errors: number;
  timeouts: number;
  '2xx': number;
}

interface LoadOptions {
  url: string;
  connections: number;
  duration: number;
  method: 'POST';
  headers: Record<string, string>;
  body: string;
  requests: {
    setupRequest: (request: { headers: Record<string, string> }) => { headers: Record<string, string> };
  }[];
}

const autocannon = createRequire(import.meta.url)('autocannon') as (
  options: LoadOptions,
) => Promise<LoadResult>;

export interface Load {
  url: string;
  connections: number;
  durationSeconds: number;
  event: string;
  body: string;
  secret: string;
}

export async function drive(load: Load): Promise<LoadResult> {
  const signature = await sign(load.secret, load.body);
  return autocannon({
    url: load.url,
    connections: load.connections,
    duration: load.durationSeconds,
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'user-agent': 'GitHub-Hookshot/queueshift-bench',
      'x-github-event': load.event,
      'x-hub-signature-256': signature,
    },
    body: load.body,
    requests: [
      {
        setupRequest: (request) => ({
          ...request,
          headers: { ...request.headers, 'x-github-delivery': randomUUID() },
        }),
      },
    ],
  });
}
