import type { Logger } from 'pino';
import type { V1Pod } from '@kubernetes/client-node';
import { terminationGraceMs } from './container-supervisor.ts';
import { errorMessage, statusCode } from './kube-client.ts';
import type { PodHandler } from './pod-watch.ts';
import { PodWorker, type PodWorkerContext } from './pod-worker.ts';

const isTerminal = (pod: V1Pod): boolean =>
  pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';

/**
 * The pods of this node, one worker per pod uid. Watch events go to the pod's worker; a pod
 * deleted from the API server without a graceful delete (force deletion) gets its processes
 * stopped all the same.
 */
export class PodManager implements PodHandler {
  private readonly ctx: PodWorkerContext;
  private readonly log: Logger;
  private readonly workers = new Map<string, PodWorker>();
  /** Uids whose pod this node already finished with; late events for them are ignored. */
  private readonly finished = new Set<string>();
  private shuttingDown = false;

  constructor(ctx: PodWorkerContext) {
    this.ctx = ctx;
    this.log = ctx.log;
  }

  upsert(pod: V1Pod): void {
    const uid = pod.metadata?.uid ?? '';
    if (this.shuttingDown || uid === '' || this.finished.has(uid)) return;
    const worker = this.workers.get(uid);
    if (worker) {
      worker.update(pod);
      return;
    }
    if (pod.metadata?.deletionTimestamp) {
      // Nothing of it runs here (it ended, or ran under an earlier local node): just let it go.
      this.finished.add(uid);
      void this.forceDelete(pod);
      return;
    }
    if (isTerminal(pod)) return;
    const created = new PodWorker(pod, this.ctx);
    this.workers.set(uid, created);
    this.log.info(
      { pod: `${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`, uid },
      'pod assigned',
    );
    created.start();
    if (pod.metadata?.deletionTimestamp) created.update(pod);
  }

  remove(pod: V1Pod): void {
    const uid = pod.metadata?.uid ?? '';
    this.finished.delete(uid);
    const worker = this.workers.get(uid);
    if (!worker) return;
    this.workers.delete(uid);
    void worker.terminate({ graceMs: terminationGraceMs(pod), deleteFromApi: false });
  }

  /** Called by a worker's deletion path; keeps the uid as finished until the DELETED event. */
  private async forceDelete(pod: V1Pod): Promise<void> {
    try {
      await this.ctx.clients.core.deleteNamespacedPod({
        name: pod.metadata?.name ?? '',
        namespace: pod.metadata?.namespace ?? '',
        gracePeriodSeconds: 0,
        body: { gracePeriodSeconds: 0, preconditions: { uid: pod.metadata?.uid ?? '' } },
      });
    } catch (error) {
      const code = statusCode(error);
      if (code !== 404 && code !== 409)
        this.log.warn({ err: errorMessage(error) }, 'could not delete a finished pod');
    }
  }

  /** Pids of every running container process, by pod uid. */
  pids(): Map<string, number[]> {
    return new Map([...this.workers].map(([uid, worker]) => [uid, worker.pids()]));
  }

  /** The node is going away: stop every pod's processes (grace capped at `maxGraceMs`), keep the pods. */
  async shutdown(maxGraceMs: number): Promise<void> {
    this.shuttingDown = true;
    await Promise.all(
      [...this.workers.values()].map((worker) =>
        worker.terminate({ graceMs: Math.min(worker.graceMs, maxGraceMs), deleteFromApi: false }),
      ),
    );
  }
}
