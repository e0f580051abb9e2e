import http from 'node:http';
import https from 'node:https';
import { KubeApiError } from './kube-api-error.ts';
import type { KubeCredentials } from './kube-credentials.ts';

export const CONTENT_TYPES = {
  json: 'application/json',
  mergePatch: 'application/merge-patch+json',
  /** Server-side apply; JSON is YAML, so the body is JSON. */
  apply: 'application/apply-patch+yaml',
} as const;

export interface RequestOptions {
  body?: unknown;
  contentType?: string;
  query?: Readonly<Record<string, string | number | boolean | undefined>>;
  signal?: AbortSignal;
}

export interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: Record<string, unknown>;
}

/** A request that has not answered in this time failed; watches are bounded by timeoutSeconds. */
const REQUEST_TIMEOUT_MS = 30_000;

function withQuery(path: string, query: RequestOptions['query']): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query ?? {}))
    if (value !== undefined) params.set(key, String(value));
  const text = params.toString();
  return text === '' ? path : `${path}?${text}`;
}

/**
 * The Kubernetes REST API as JSON over HTTPS, authenticated by KubeCredentials. Small on purpose:
 * the controller needs server-side apply, the status subresource and watches it can abort, with
 * errors that carry the method, path and status.
 */
export class KubeApi {
  private readonly credentials: KubeCredentials;
  private agent: Promise<http.Agent> | undefined;

  constructor(credentials: KubeCredentials) {
    this.credentials = credentials;
  }

  private async open(
    method: string,
    path: string,
    options: RequestOptions,
    timeoutMs: number,
    body?: string,
  ): Promise<http.ClientRequest> {
    const url = new URL(path, this.credentials.server);
    const [agent, authorization] = await Promise.all([
      this.keepAliveAgent(),
      this.credentials.authorization(),
    ]);
    const request = (url.protocol === 'https:' ? https : http).request({
      method,
      protocol: url.protocol,
      hostname: url.hostname,
      port: url.port,
      path: url.pathname + url.search,
      headers: {
        Accept: CONTENT_TYPES.json,
        // A body without Content-Length on a DELETE is not framed by Node: the server would read
        // it as the start of the next request on the kept-alive socket.
        ...(body !== undefined && {
          'Content-Type': options.contentType ?? CONTENT_TYPES.json,
          'Content-Length': Buffer.byteLength(body),
        }),
        ...(authorization !== undefined && { Authorization: authorization }),
      },
      agent,
      timeout: timeoutMs,
      ...(options.signal !== undefined && { signal: options.signal }),
    });
    request.on('timeout', () => request.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    return request;
  }

  /**
   * One keep-alive agent with the TLS material serves every request: a connection per request would
   * pay a TLS handshake and a secure context of its own, which costs the reaction time and memory
   * of a busy controller. Credentials stay per request (headers), so a rotated token still applies.
   */
  private keepAliveAgent(): Promise<http.Agent> {
    this.agent ??=
      this.credentials.server.protocol === 'https:'
        ? this.credentials.tls().then((tls) => new https.Agent({ keepAlive: true, ...tls }))
        : Promise.resolve(new http.Agent({ keepAlive: true }));
    return this.agent;
  }

  /** One request; resolves to the parsed answer, rejects with a KubeApiError. */
  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const target = withQuery(path, options.query);
    const body = options.body === undefined ? undefined : JSON.stringify(options.body);
    const request = await this.open(method, target, options, REQUEST_TIMEOUT_MS, body);
    return new Promise<T>((resolve, reject) => {
      request.on('error', (error) => {
        reject(new KubeApiError(method, target, 0, error.message, { cause: error }));
      });
      request.on('response', (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        response.on('error', (error) => {
          reject(new KubeApiError(method, target, 0, error.message, { cause: error }));
        });
        response.on('end', () => {
          const status = response.statusCode ?? 0;
          if (status >= 200 && status < 300) {
            resolve((text === '' ? {} : JSON.parse(text)) as T);
            return;
          }
          let detail = text;
          try {
            detail = (JSON.parse(text) as { message?: string }).message ?? text;
          } catch {
            // Not a Status object: the raw text says it.
          }
          reject(new KubeApiError(method, target, status, detail));
        });
      });
      request.end(body);
    });
  }

  /**
   * Streams a watch: `onEvent` per event, until the server ends it (timeoutSeconds) or `signal`
   * aborts (both resolve). Rejects when the request fails or the server sends an ERROR event
   * (410 Gone among them), so that the caller lists again.
   */
  async watch(
    path: string,
    query: RequestOptions['query'],
    onEvent: (event: WatchEvent) => void,
    signal: AbortSignal,
  ): Promise<void> {
    const target = withQuery(path, { ...query, watch: true });
    const seconds = Number(query?.timeoutSeconds ?? 300);
    const request = await this.open('GET', target, { signal }, (seconds + 30) * 1_000);
    await new Promise<void>((resolve, reject) => {
      const fail = (status: number, detail: string, cause?: unknown): void => {
        if (signal.aborted) resolve();
        else reject(new KubeApiError('GET', target, status, detail, { cause }));
      };
      request.on('error', (error) => {
        fail(0, error.message, error);
      });
      request.on('response', (response) => {
        const status = response.statusCode ?? 0;
        if (status !== 200) {
          response.resume();
          fail(status, `watch refused`);
          return;
        }
        let buffer = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => {
          buffer += chunk;
          let newline = buffer.indexOf('\n');
          while (newline !== -1) {
            const line = buffer.slice(0, newline).trim();
            buffer = buffer.slice(newline + 1);
            newline = buffer.indexOf('\n');
            if (line === '') continue;
            const event = JSON.parse(line) as WatchEvent;
            if (event.type === 'ERROR') {
              const problem = event.object as { code?: number; message?: string };
              request.destroy();
              fail(problem.code ?? 0, problem.message ?? 'watch error');
              return;
            }
            onEvent(event);
          }
        });
        response.on('end', resolve);
        response.on('error', (error) => {
          fail(0, error.message, error);
        });
      });
      request.end();
    });
  }
}
