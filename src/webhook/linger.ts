import type { IncomingMessage } from 'node:http';

/** How long a refused request's unread body is read and dropped before the connection is cut. */
export const LINGER_MS = 2_000;

/**
 * Closes the connection of a refused request whose body was not read, without losing the answer.
 * Closing a socket with unread input makes the kernel answer the client's next write with a reset,
 * and a client still uploading can meet that reset before it reads the refusal (EPIPE instead of
 * 413). So the rest of the body is read and dropped, for at most `lingerMs`, then the connection is
 * ended; an endless sender is cut off when the time is up, so an unauthenticated client cannot make
 * the server read without end.
 */
export function closeAfterDraining(req: IncomingMessage, lingerMs = LINGER_MS): void {
  const socket = req.socket;
  const cutOff = setTimeout(() => socket.destroy(), lingerMs);
  cutOff.unref();
  socket.once('close', () => {
    clearTimeout(cutOff);
  });
  req.once('end', () => {
    clearTimeout(cutOff);
    socket.end();
  });
  req.resume();
}
