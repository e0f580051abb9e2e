import http from 'node:http';
import type { Delivery } from '../../integration/services/fixtures/deliveries.ts';
import { exampleDeliveries, githubHeaders } from '../../integration/services/fixtures/deliveries.ts';

/** What one load run sent and how each request ended. */
export interface LoadReport {
  sent: number;
  /** Delivery ids answered 2xx: each must be handled exactly once. */
  accepted: ReadonlySet<string>;
  /** Every answer that was not 2xx, by status, and requests that got no answer, by error code. */
  refused: Readonly<Record<string, number>>;
  /** Requests that never reached a server (refused connection) and went to another pod instead. */
  redirected: number;
  durationMs: number;
}

export interface SteadyLoadOptions {
  ratePerSecond: number;
  secret: string;
  /** Where to send: the URLs of the webhook pods ready right now, as a Service would pick them. */
  targets: () => Promise<readonly string[]>;
  /** How often the targets are looked up again. */
  refreshMs?: number;
}

type Outcome = { status: number } | { error: string; connected: boolean };

// A fresh connection per request: a request on a kept-alive socket that a stopping pod closes
// cannot be told apart from one the pod read, and that would blur the loss count.
const agent = new http.Agent({ keepAlive: false });
/** A request that reached no server goes elsewhere this many times, a little apart. */
const RETRIES_BEFORE_CONNECT = 5;
const RETRY_PAUSE_MS = 100;

/** One POST; a connection that was refused is told apart, since nothing reached a server. */
async function post(url: string, delivery: Delivery, secret: string): Promise<Outcome> {
  const headers = await githubHeaders(delivery, secret);
  return new Promise((resolve) => {
    let connected = false;
    const req = http.request(url, { method: 'POST', headers, agent }, (res) => {
      res.resume();
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0 });
      });
    });
    req.on('socket', (socket) => {
      socket.once('connect', () => (connected = true));
    });
    req.on('error', (error: NodeJS.ErrnoException) => {
      resolve({ error: error.code ?? error.message, connected });
    });
    req.end(delivery.body);
  });
}

/**
 * Real GitHub payloads (every example of @octokit/webhooks-examples, in turn), signed, at a steady
 * rate, spread over the ready webhook pods the way a Service spreads them. A connection refused by
 * a pod that is going away is sent again to another one, as a load balancer does; anything else
 * that is not 2xx is counted, never retried, since GitHub does not retry either.
 */
export class SteadyLoad {
  private readonly options: Required<SteadyLoadOptions>;
  private readonly examples = exampleDeliveries();
  private readonly accepted = new Set<string>();
  private readonly refused: Record<string, number> = {};
  private readonly inFlight = new Set<Promise<void>>();
  private sent = 0;
  private redirected = 0;
  private targets: readonly string[] = [];
  private turn = 0;
  private startedAt = 0;
  private stopped = false;
  private loop: Promise<void> | undefined;

  constructor(options: SteadyLoadOptions) {
    this.options = { refreshMs: 500, ...options };
  }

  /** Delivery ids answered 2xx so far. */
  get acceptedCount(): number {
    return this.accepted.size;
  }

  /** Deliveries sent so far, answered or not yet. */
  get sentCount(): number {
    return this.sent;
  }

  /** Deliveries refused so far: answered non-2xx, failed, or sent while no pod was ready. */
  get refusedCount(): number {
    return Object.values(this.refused).reduce((total, count) => total + count, 0);
  }

  start(): void {
    this.startedAt = Date.now();
    this.loop = this.run();
  }

  async stop(): Promise<LoadReport> {
    this.stopped = true;
    await this.loop;
    await Promise.all(this.inFlight);
    return {
      sent: this.sent,
      accepted: this.accepted,
      refused: { ...this.refused },
      redirected: this.redirected,
      durationMs: Date.now() - this.startedAt,
    };
  }

  private async run(): Promise<void> {
    let refreshedAt = 0;
    while (!this.stopped) {
      const now = Date.now();
      if (now - refreshedAt >= this.options.refreshMs) {
        this.targets = await this.options.targets();
        refreshedAt = now;
      }
      const due = Math.floor(((now - this.startedAt) / 1000) * this.options.ratePerSecond) - this.sent;
      for (let i = 0; i < due; i++) {
        const delivery = this.nextDelivery();
        // With no ready pod, a Service has no endpoint: GitHub's request fails, and it counts.
        if (this.targets.length === 0) this.refuse('NO_READY_POD');
        else this.dispatch(delivery);
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  private refuse(reason: string): void {
    this.refused[reason] = (this.refused[reason] ?? 0) + 1;
  }

  private nextDelivery(): Delivery {
    const example = this.examples[this.sent % this.examples.length] as Delivery;
    this.sent++;
    return { ...example, deliveryId: `load-${this.sent.toString(36)}-${this.startedAt.toString(36)}` };
  }

  private dispatch(delivery: Delivery): void {
    const sending = this.send(delivery).finally(() => this.inFlight.delete(sending));
    this.inFlight.add(sending);
  }

  private async send(delivery: Delivery): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const url = this.targets[this.turn++ % Math.max(this.targets.length, 1)];
      const outcome =
        url === undefined
          ? { error: 'NO_READY_POD', connected: false }
          : await post(url, delivery, this.options.secret);
      if ('status' in outcome && outcome.status >= 200 && outcome.status < 300) {
        this.accepted.add(delivery.deliveryId);
        return;
      }
      if ('error' in outcome && !outcome.connected && attempt < RETRIES_BEFORE_CONNECT) {
        this.redirected++;
        await new Promise((resolve) => setTimeout(resolve, RETRY_PAUSE_MS));
        this.targets = await this.options.targets();
        continue;
      }
      this.refuse('status' in outcome ? String(outcome.status) : outcome.error);
      return;
    }
  }
}
