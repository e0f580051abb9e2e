import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { WebhookHandler } from './webhook-handler.ts';

/** A user's handler module, as loaded from HANDLER_MODULE. */
export interface HandlerModule {
  /** The module's `handler` export, or its default export. */
  handler: WebhookHandler;
  /** The module's `events` export: the events it takes. Every event but `ping` when absent. */
  events?: readonly string[];
}

/**
 * - `HANDLER_MODULE_LOAD_FAILED`: the file could not be imported (missing, syntax error, throws).
 * - `HANDLER_MODULE_INVALID`: it loaded but does not export what a handler module must.
 */
export type HandlerModuleErrorCode = 'HANDLER_MODULE_LOAD_FAILED' | 'HANDLER_MODULE_INVALID';

export class HandlerModuleError extends Error {
  readonly code: HandlerModuleErrorCode;
  readonly file: string;

  constructor(code: HandlerModuleErrorCode, file: string, message: string, options?: ErrorOptions) {
    super(`${file}: ${message}`, options);
    this.name = 'HandlerModuleError';
    this.code = code;
    this.file = file;
  }
}

function isEventList(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((event) => typeof event === 'string' && event.length > 0);
}

/** Imports a handler module (JavaScript, or TypeScript that Node can strip) and checks its exports. */
export async function loadHandlerModule(file: string): Promise<HandlerModule> {
  let exports: Record<string, unknown>;
  try {
    exports = (await import(pathToFileURL(path.resolve(file)).href)) as Record<string, unknown>;
  } catch (error) {
    throw new HandlerModuleError(
      'HANDLER_MODULE_LOAD_FAILED',
      file,
      `could not be loaded: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
  const handler = exports['handler'] ?? exports['default'];
  if (typeof handler !== 'function') {
    throw new HandlerModuleError(
      'HANDLER_MODULE_INVALID',
      file,
      'exports no handler: export a function named `handler` or as the default export',
    );
  }
  const events = exports['events'];
  if (events === undefined) return { handler: handler as WebhookHandler };
  if (!isEventList(events) || events.length === 0) {
    throw new HandlerModuleError(
      'HANDLER_MODULE_INVALID',
      file,
      '`events` must be a non-empty list of event names',
    );
  }
  if (events.includes('ping')) {
    throw new HandlerModuleError(
      'HANDLER_MODULE_INVALID',
      file,
      '`events` must not include ping: the built-in ping handler answers the probes that rely on it',
    );
  }
  return { handler: handler as WebhookHandler, events };
}
