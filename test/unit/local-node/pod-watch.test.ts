import type { V1Pod } from '@kubernetes/client-node';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { HttpStatusError, type WatchEvent } from '../../env/local-node/kube-client.ts';
import { PodWatch, type PodHandler } from '../../env/local-node/pod-watch.ts';

const pod = (uid: string, rv: string): V1Pod => ({
  metadata: { name: uid, namespace: 'ns', uid, resourceVersion: rv },
});

type Step =
  | { list: { rv: string; items: V1Pod[] } }
  | { listFails: Error }
  | { watch: WatchEvent[]; then?: Error }
  | { stall: true };

/** A scripted API server: each list or watch call takes the next step. */
function fakeServer(steps: Step[], done: AbortController) {
  const calls: string[] = [];
  const next = (): Step => {
    const step = steps.shift();
    if (!step) {
      done.abort();
      return { stall: true };
    }
    return step;
  };
  return {
    calls,
    http: {
      getJson(path: string): Promise<unknown> {
        calls.push(`list ${path}`);
        const step = next();
        if ('listFails' in step) return Promise.reject(step.listFails);
        if (!('list' in step))
          return Promise.reject(new Error(`expected a list step, got ${JSON.stringify(step)}`));
        return Promise.resolve({ metadata: { resourceVersion: step.list.rv }, items: step.list.items });
      },
      async watch(path: string, onEvent: (event: WatchEvent) => void, signal: AbortSignal): Promise<void> {
        calls.push(`watch ${path}`);
        const step = next();
        if ('stall' in step) {
          if (!signal.aborted)
            await new Promise((resolve) => {
              signal.addEventListener('abort', resolve, { once: true });
            });
          return;
        }
        if (!('watch' in step)) throw new Error(`expected a watch step, got ${JSON.stringify(step)}`);
        for (const event of step.watch) onEvent(event);
        if (step.then) throw step.then;
      },
    },
  };
}

function recorder(): PodHandler & { log: string[] } {
  const log: string[] = [];
  return {
    log,
    upsert: (p) => log.push(`upsert ${p.metadata?.uid ?? ''}@${p.metadata?.resourceVersion ?? ''}`),
    remove: (p) => log.push(`remove ${p.metadata?.uid ?? ''}`),
  };
}

async function run(steps: Step[]) {
  const done = new AbortController();
  const server = fakeServer(steps, done);
  const handler = recorder();
  const watch = new PodWatch(server.http, handler, pino({ level: 'silent' }), {
    nodeName: 'local-node',
    resyncMs: 60_000,
    delay: () => Promise.resolve(),
  });
  await watch.run(done.signal);
  return { calls: server.calls, events: handler.log };
}

describe('pod list and watch', () => {
  it('lists, then watches from the list’s resourceVersion, following bookmarks', async () => {
    const { calls, events } = await run([
      { list: { rv: '10', items: [pod('a', '5')] } },
      {
        watch: [
          { type: 'ADDED', object: pod('b', '11') },
          { type: 'BOOKMARK', object: { metadata: { resourceVersion: '15' } } },
        ],
      },
      { watch: [{ type: 'DELETED', object: pod('a', '16') }] },
    ]);
    expect(events).toEqual(['upsert a@5', 'upsert b@11', 'remove a']);
    expect(calls[0]).toBe('list /api/v1/pods?fieldSelector=spec.nodeName%3Dlocal-node&limit=500');
    expect(calls[1]).toContain('&resourceVersion=10&');
    expect(calls[2]).toContain('&resourceVersion=15&');
  });

  it('re-lists after 410 Gone and reports pods that vanished meanwhile as removed', async () => {
    const { calls, events } = await run([
      { list: { rv: '10', items: [pod('a', '5'), pod('b', '6')] } },
      {
        watch: [
          { type: 'ERROR', object: { kind: 'Status', code: 410, message: 'too old resource version' } },
        ],
      },
      { list: { rv: '30', items: [pod('b', '6'), pod('c', '25')] } },
    ]);
    expect(events).toEqual(['upsert a@5', 'upsert b@6', 'remove a', 'upsert c@25']);
    expect(calls.filter((c) => c.startsWith('list'))).toHaveLength(2);
  });

  it('keeps going after failed lists and broken watches', async () => {
    const { calls, events } = await run([
      { listFails: new HttpStatusError(500, 'etcd leader changed') },
      { listFails: new Error('ECONNREFUSED') },
      { list: { rv: '10', items: [] } },
      { watch: [{ type: 'ADDED', object: pod('a', '11') }], then: new Error('socket hang up') },
      { list: { rv: '12', items: [pod('a', '12')] } },
      { watch: [], then: new HttpStatusError(410, 'Gone') },
      { list: { rv: '13', items: [pod('a', '12')] } },
    ]);
    expect(events).toEqual(['upsert a@11', 'upsert a@12']);
    expect(calls.filter((c) => c.startsWith('list'))).toHaveLength(5);
  });
});
