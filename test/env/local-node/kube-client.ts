import type { IncomingMessage } from 'node:http';
import https from 'node:https';
import {
  CoordinationV1Api,
  CoreV1Api,
  KubeConfig,
  PatchStrategy,
  setHeaderOptions,
  type ConfigurationOptions,
} from '@kubernetes/client-node';

/** Per-call options that make a client-node patch call send a JSON merge patch. */
export function mergePatch(): ConfigurationOptions {
  return setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
}

/** The HTTP status of a failed client-node or KubeHttp call, if it got that far. */
export function statusCode(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const code =
    (error as { code?: unknown; statusCode?: unknown }).code ??
    (error as { statusCode?: unknown }).statusCode;
  return typeof code === 'number' ? code : undefined;
}

/**
 * Fails a call that has not answered within `ms`. client-node's calls have no deadline of their own
 * (a stalled API server or a half-open connection holds them for minutes), and a heartbeat or a
 * status write that hangs must not stop the ones after it.
 */
export async function withTimeout<T>(call: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new Error(`${what} did not answer within ${ms} ms`));
    }, ms);
  });
  try {
    return await Promise.race([call, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The result of a read, or undefined when the object does not exist (404). */
export async function readOrUndefined<T>(read: () => Promise<T>): Promise<T | undefined> {
  try {
    return await read();
  } catch (error) {
    if (statusCode(error) === 404) return undefined;
    throw error;
  }
}

export function errorMessage(error: unknown): string {
  if (error instanceof Error) {
    const body = (error as { body?: unknown }).body;
    if (typeof body === 'string' && body !== '') {
      try {
        const parsed = JSON.parse(body) as { message?: unknown };
        if (typeof parsed.message === 'string') return parsed.message;
      } catch {
        // not JSON
      }
    }
    if (
      typeof body === 'object' &&
      body !== null &&
      typeof (body as { message?: unknown }).message === 'string'
    ) {
      return (body as { message: string }).message;
    }
    return error.message;
  }
  return String(error);
}

export class HttpStatusError extends Error {
  readonly statusCode: number;
  constructor(statusCode: number, message: string) {
    super(message);
    this.statusCode = statusCode;
  }
}

export interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: unknown;
}

/**
 * Raw JSON GETs and watch streams against the API server with the kubeconfig's credentials.
 * client-node's typed list turns timestamps into Date objects while its watch hands out plain
 * JSON; the pod loop reads both kinds of response here so that it only ever sees the wire form.
 */
export class KubeHttp {
  private readonly server: URL;
  private readonly requestOptions: https.RequestOptions;

  private constructor(server: URL, requestOptions: https.RequestOptions) {
    this.server = server;
    this.requestOptions = requestOptions;
  }

  static async create(kc: KubeConfig): Promise<KubeHttp> {
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new Error('the kubeconfig has no current cluster');
    const options: https.RequestOptions = {};
    await kc.applyToHTTPSOptions(options);
    options.agent = new https.Agent({
      keepAlive: true,
      ...(options.ca !== undefined && { ca: options.ca }),
      ...(options.cert !== undefined && { cert: options.cert }),
      ...(options.key !== undefined && { key: options.key }),
    });
    return new KubeHttp(new URL(cluster.server), options);
  }

  private request(path: string, signal: AbortSignal | undefined): Promise<IncomingMessage> {
    const url = new URL(path, this.server);
    return new Promise((resolve, reject) => {
      const request = https.request(
        url,
        { ...this.requestOptions, method: 'GET', ...(signal && { signal }) },
        (response) => {
          const status = response.statusCode ?? 0;
          if (status >= 200 && status < 300) {
            resolve(response);
            return;
          }
          let body = '';
          response.setEncoding('utf8');
          response.on('data', (chunk: string) => (body += chunk));
          response.on('end', () => {
            let message = body;
            try {
              message = (JSON.parse(body) as { message?: string }).message ?? body;
            } catch {
              // keep the raw body
            }
            reject(new HttpStatusError(status, `GET ${url.pathname}: ${status} ${message}`));
          });
          response.on('error', reject);
        },
      );
      request.on('error', reject);
      request.end();
    });
  }

  async getJson(path: string, signal?: AbortSignal, timeoutMs = 30_000): Promise<unknown> {
    const timeout = AbortSignal.timeout(timeoutMs);
    const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
    const response = await this.request(path, combined);
    const chunks: Buffer[] = [];
    for await (const chunk of response) chunks.push(chunk as Buffer);
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  }

  /**
   * Streams a watch until the server ends it (resolves) or it fails (rejects). A stream that
   * sends nothing for `idleMs` counts as stalled and fails: watches can hang silently.
   */
  async watch(
    path: string,
    onEvent: (event: WatchEvent) => void,
    signal: AbortSignal,
    idleMs: number,
  ): Promise<void> {
    const local = new AbortController();
    const combined = AbortSignal.any([signal, local.signal]);
    let idle: NodeJS.Timeout | undefined;
    const arm = (): void => {
      clearTimeout(idle);
      idle = setTimeout(() => {
        local.abort(new Error(`watch ${path} sent nothing for ${idleMs} ms`));
      }, idleMs);
    };
    arm();
    try {
      const response = await this.request(path, combined);
      let buffered = '';
      response.setEncoding('utf8');
      for await (const chunk of response) {
        arm();
        buffered += chunk as string;
        let newline = buffered.indexOf('\n');
        while (newline !== -1) {
          const line = buffered.slice(0, newline).trim();
          buffered = buffered.slice(newline + 1);
          if (line !== '') onEvent(JSON.parse(line) as WatchEvent);
          newline = buffered.indexOf('\n');
        }
      }
    } catch (error) {
      if (local.signal.aborted && !signal.aborted) throw local.signal.reason as Error;
      throw error;
    } finally {
      clearTimeout(idle);
    }
  }

  close(): void {
    (this.requestOptions.agent as https.Agent).destroy();
  }
}

export interface KubeClients {
  kc: KubeConfig;
  core: CoreV1Api;
  coordination: CoordinationV1Api;
  http: KubeHttp;
  /** The API server's port, handed to pods as KUBERNETES_SERVICE_PORT. */
  apiServerPort: number;
}

export async function kubeClients(kubeconfigFile: string): Promise<KubeClients> {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigFile);
  const server = kc.getCurrentCluster()?.server;
  if (server === undefined) throw new Error(`${kubeconfigFile} has no current cluster`);
  const url = new URL(server);
  return {
    kc,
    core: kc.makeApiClient(CoreV1Api),
    coordination: kc.makeApiClient(CoordinationV1Api),
    http: await KubeHttp.create(kc),
    apiServerPort: Number(url.port || 443),
  };
}
