import { parseArgs } from 'node:util';
import { DemoError } from './demo-error.ts';

export interface DemoOptions {
  /** Run the rollback story (a fault during canary) instead of a migration to the end. */
  rollback: boolean;
  /** Signed deliveries per second; the default suits a 2-core machine. */
  rate: number;
}

export const USAGE = 'usage: npm run demo [-- --rollback] [-- --rate N]';

const DEFAULT_RATE = 50;
const MAX_RATE = 2_000;

/** `--rollback`, `--rate N`; anything else is refused with the usage line. */
export function parseDemoOptions(argv: readonly string[]): DemoOptions {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: { rollback: { type: 'boolean', default: false }, rate: { type: 'string' } },
      strict: true,
      allowPositionals: false,
    });
  } catch (error) {
    throw new DemoError('DEMO_USAGE', `${(error as Error).message}\n${USAGE}`);
  }
  const { rollback, rate: rateText } = parsed.values;
  const rate = rateText === undefined ? DEFAULT_RATE : Number(rateText);
  if (!Number.isInteger(rate) || rate < 1 || rate > MAX_RATE) {
    throw new DemoError(
      'DEMO_USAGE',
      `--rate must be a whole number of deliveries per second from 1 to ${String(MAX_RATE)}, got "${rateText ?? ''}"`,
    );
  }
  return { rollback, rate };
}
