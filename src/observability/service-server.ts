import type { Clock, ScheduledTimer } from '../adapter/index.ts';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Readiness } from './readiness.ts';
import type { ListenSettings } from './service.ts';

export interface ServiceServerOptions extends ListenSettings {
  registry: Registry;
  readiness: Readiness;
  logger: Logger;
  clock: Clock;
  /** Requests to any path other than the probes and /metrics (the webhook). Default: 404. */
  fallback?: http.RequestListener;
}

/** Operational endpoints: answered with GET or HEAD only. */
const OPERATIONAL_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

/**
 * Slow clients must not hold a connection for long: GitHub gives up on a delivery after 10 s, and
 * probes and scrapes are small. The keep-alive timeout outlasts common load balancers' idle timeout
 * less a margin, so they never reuse a connection this server is closing.
 */
const HEADERS_TIMEOUT_MS = 10_000;
const REQUEST_TIMEOUT_MS = 30_000;
const KEEP_ALIVE_TIMEOUT_MS = 65_000;

function send(res: http.ServerResponse, status: number, contentType: string, body: string): void {
  res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

/**
 * The HTTP server both services run on PORT: `/healthz` (the process answers), `/readyz` (its
 * dependencies answer, see Readiness), `/metrics` (Prometheus text), and the service's own routes.
 */
export class ServiceServer {
  private readonly options: ServiceServerOptions;
  private readonly server: http.Server;
  private closing = false;
  /** Responses not finished yet: at shutdown, their connections must close once they are. */
  private readonly inFlight = new Set<http.ServerResponse>();

  constructor(options: ServiceServerOptions) {
    this.options = options;
    this.server = http.createServer(
      {
        headersTimeout: HEADERS_TIMEOUT_MS,
        requestTimeout: REQUEST_TIMEOUT_MS,
        keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
      },
      (req, res) => {
        this.route(req, res);
      },
    );
  }

  /** Resolves with the port once listening. */
  async listen(): Promise<number> {
    const { port, host } = this.options;
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen({ port, ...(host !== undefined && { host }) }, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    return (this.server.address() as AddressInfo).port;
  }

  /**
   * Stops accepting connections, lets requests in progress finish within `graceMs` (their
   * responses close their connections), then drops whatever is left.
   */
  async close(graceMs: number): Promise<void> {
    this.closing = true;
    for (const res of this.inFlight) if (!res.headersSent) res.setHeader('Connection', 'close');
    const closed = new Promise<void>((resolve) =>
      this.server.close(() => {
        resolve();
      }),
    );
    this.server.closeIdleConnections();
    let timer: ScheduledTimer | undefined;
    const graceOver = new Promise<void>((resolve) => {
      timer = this.options.clock.schedule(graceMs, resolve);
    });
    await Promise.race([closed, graceOver]);
    timer?.cancel();
    this.server.closeAllConnections();
    await closed;
  }

  private route(req: http.IncomingMessage, res: http.ServerResponse): void {
    if (this.closing) res.setHeader('Connection', 'close');
    this.inFlight.add(res);
    res.once('close', () => {
      this.inFlight.delete(res);
      // A keep-alive connection whose answer was already under way becomes idle only now.
      if (this.closing) this.server.closeIdleConnections();
    });
    const path = (req.url ?? '/').split('?', 1)[0] ?? '/';
    if (!OPERATIONAL_PATHS.has(path)) {
      if (this.options.fallback) this.options.fallback(req, res);
      else send(res, 404, 'text/plain', 'not found\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      send(res, 405, 'text/plain', 'method not allowed\n');
      return;
    }
    this.answer(path, res).catch((error: unknown) => {
      this.options.logger.error({ err: error, path }, 'operational endpoint failed');
      if (!res.headersSent) send(res, 500, 'text/plain', 'internal error\n');
      else res.destroy();
    });
  }

  private async answer(path: string, res: http.ServerResponse): Promise<void> {
    if (path === '/healthz') send(res, 200, 'text/plain', 'ok\n');
    else if (path === '/readyz') await this.readyz(res);
    else await this.metrics(res);
  }

  private async readyz(res: http.ServerResponse): Promise<void> {
    const state = await this.options.readiness.probe();
    if (state.ready) send(res, 200, 'text/plain', 'ready\n');
    else send(res, 503, 'text/plain', `not ready: ${state.reason}\n`);
  }

  private async metrics(res: http.ServerResponse): Promise<void> {
    const { registry } = this.options;
    send(res, 200, registry.contentType, await registry.metrics());
  }
}
