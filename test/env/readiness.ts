import fs from 'node:fs';
import { isAlive, type DaemonRecord } from './processes.ts';
import { waitUntil, type WaitOptions } from './wait.ts';

/** The last `count` lines of a daemon's log, or a note that there is nothing to show. */
export function logTail(logFile: string, count = 20): string {
  let text: string;
  try {
    text = fs.readFileSync(logFile, 'utf8');
  } catch {
    return `(no log at ${logFile})`;
  }
  const lines = text.trimEnd().split('\n').slice(-count);
  return lines.join('\n') || `(${logFile} is empty)`;
}

function startupError(record: DaemonRecord, reason: string, cause?: unknown): Error {
  return new Error(`${reason}\n--- last lines of ${record.logFile} ---\n${logTail(record.logFile)}`, {
    cause,
  });
}

/**
 * Waits until `probe` says the daemon answers. Stops early when the process exits (a bad config
 * makes most servers exit at once, and waiting out the timeout would only hide that), and puts the
 * end of the daemon's log into the error: the reason a server did not come up is nearly always there.
 */
export async function waitForDaemon(
  record: DaemonRecord,
  probe: () => Promise<boolean>,
  options: WaitOptions,
): Promise<void> {
  let outcome: 'ready' | 'exited';
  try {
    outcome = await waitUntil(async () => {
      if (!isAlive(record.pid)) return 'exited';
      return (await probe()) && 'ready';
    }, options);
  } catch (error) {
    throw startupError(record, (error as Error).message, error);
  }
  if (outcome === 'exited') {
    throw startupError(record, `${record.name} (pid ${record.pid}) exited while waiting for ${options.what}`);
  }
}
