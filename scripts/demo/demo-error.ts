/**
 * Codes of the demo's errors:
 * - `DEMO_USAGE`: a flag the demo does not know, or a value it cannot use.
 * - `DEMO_NO_ENVIRONMENT`: no running environment to deploy into (`npm run demo` starts one;
 *   running scripts/demo/demo.ts directly needs `npm run env:up` first).
 * - `DEMO_INTERRUPTED`: Ctrl-C; the demo cleaned up and stopped.
 */
export type DemoErrorCode = 'DEMO_USAGE' | 'DEMO_NO_ENVIRONMENT' | 'DEMO_INTERRUPTED';

export class DemoError extends Error {
  override readonly name = 'DemoError';
  readonly code: DemoErrorCode;

  constructor(code: DemoErrorCode, message: string) {
    super(`${code}: ${message}`);
    this.code = code;
  }
}
