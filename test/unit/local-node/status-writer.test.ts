import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { HttpStatusError } from '../../env/local-node/kube-client.ts';
import type { PodStatusWire } from '../../env/local-node/pod-status.ts';
import { StatusWriter } from '../../env/local-node/status-writer.ts';

const status = (phase: PodStatusWire['phase']): PodStatusWire => ({
  phase,
  conditions: [],
  hostIP: '127.0.0.1',
  hostIPs: [],
  podIP: '127.0.0.1',
  podIPs: [],
  startTime: 't',
  containerStatuses: [],
});

function writer(current: () => PodStatusWire, failures: Error[] = []) {
  const sent: string[] = [];
  const written: string[] = [];
  const w = new StatusWriter({
    compute: current,
    write: (s) => {
      const failure = failures.shift();
      if (failure) return Promise.reject(failure);
      sent.push(s.phase);
      return Promise.resolve();
    },
    written: (s) => written.push(s.phase),
    log: pino({ level: 'silent' }),
  });
  return { w, sent, written };
}

// The API server sees one write per real change: status writes are the local node's main load.
describe('pod status writer', () => {
  it('coalesces a burst of requests into one write and skips a status already written', async () => {
    let phase: PodStatusWire['phase'] = 'Pending';
    const { w, sent, written } = writer(() => status(phase));
    w.request();
    w.request();
    w.request();
    await w.settled();
    expect(sent).toEqual(['Pending']);
    w.request();
    await w.settled();
    expect(sent).toEqual(['Pending']);
    phase = 'Running';
    w.request();
    await w.settled();
    expect(sent).toEqual(['Pending', 'Running']);
    expect(written).toEqual(['Pending', 'Running']);
  });

  it('retries a failed write', async () => {
    const { w, sent } = writer(() => status('Running'), [new HttpStatusError(500, 'etcd timeout')]);
    w.request();
    await w.settled();
    expect(sent).toEqual(['Running']);
  });

  it('gives up on a refused status until the next change, and for good once the pod is gone', async () => {
    let phase: PodStatusWire['phase'] = 'Pending';
    const refused = writer(() => status(phase), [new HttpStatusError(422, 'invalid')]);
    refused.w.request();
    await refused.w.settled();
    expect(refused.sent).toEqual([]);
    phase = 'Running';
    refused.w.request();
    await refused.w.settled();
    expect(refused.sent).toEqual(['Running']);

    const gone = writer(() => status(phase), [new HttpStatusError(404, 'not found')]);
    gone.w.request();
    await gone.w.settled();
    phase = 'Failed';
    gone.w.request();
    await gone.w.settled();
    expect(gone.sent).toEqual([]);
  });
});
