import type { IncomingMessage } from 'node:http';

export type BodyOutcome =
  | { kind: 'complete'; body: Buffer }
  /** Over the limit: nothing more is kept; the caller answers 413 and closes the connection. */
  | { kind: 'too-large' }
  /** The client went away before the body was complete. */
  | { kind: 'aborted' };

/**
 * Reads a request body of at most `limitBytes`. A declared Content-Length over the limit is refused
 * before a byte is read; a body without one (chunked) is refused as soon as it passes the limit, and
 * what was read is dropped, so an oversized request never holds more than the limit in memory.
 */
export function readBody(req: IncomingMessage, limitBytes: number): Promise<BodyOutcome> {
  const declared = Number(req.headers['content-length']);
  if (declared > limitBytes) return Promise.resolve({ kind: 'too-large' });
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (outcome: BodyOutcome): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onGone);
      req.off('close', onClose);
      resolve(outcome);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limitBytes) {
        chunks.length = 0;
        req.pause();
        finish({ kind: 'too-large' });
      } else {
        chunks.push(chunk);
      }
    };
    const onEnd = (): void => {
      finish({
        kind: 'complete',
        body: chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size),
      });
    };
    const onGone = (): void => {
      finish({ kind: 'aborted' });
    };
    const onClose = (): void => {
      if (!req.complete) onGone();
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onGone);
    req.on('close', onClose);
  });
}
