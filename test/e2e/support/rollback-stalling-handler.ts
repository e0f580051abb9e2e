/**
 * A handler module (HANDLER_MODULE) for workers whose downstream can hang: while the file named by
 * STALL_FILE exists, every handler waits (as on a dependency that stopped answering), holding its
 * delivery and handler slot without an outcome; once the file is gone it counts the delivery in the
 * worker's ledger (LEDGER_KEY) through the commit API, as the built-in ledger handler does.
 */
import fs from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { WebhookHandler } from '../../../src/worker/webhook-handler.ts';

const stallFile = process.env['STALL_FILE'] ?? '';
const ledgerKey = process.env['LEDGER_KEY'] ?? 'queueshift-test:ledger';
/** How often a stalled handler looks whether its downstream answers again. */
const RECHECK_MS = 200;

export default (async (_envelope, ctx) => {
  while (stallFile !== '' && fs.existsSync(stallFile)) {
    await sleep(RECHECK_MS, undefined, { signal: ctx.signal });
  }
  await ctx.commit((tx) => {
    tx.hincrby(ledgerKey, ctx.deliveryId, 1);
  });
  return { kind: 'ack' };
}) satisfies WebhookHandler;
