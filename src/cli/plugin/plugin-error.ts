/**
 * Every failure of `kubectl queueshift` carries one of these codes. The message names the object
 * and what to do; the code decides the exit status (2 for a command line that is not understood,
 * 1 for anything that went wrong while doing what was asked).
 */
export const PLUGIN_ERRORS = {
  PLUGIN_USAGE: 'The command line is not understood; the usage follows.',
  PLUGIN_KUBECONFIG: 'No kubeconfig could be loaded, or it has no such context or no current cluster.',
  PLUGIN_NOT_FOUND: 'The QueueMigration, or a Secret it references, does not exist (404).',
  PLUGIN_FORBIDDEN: 'RBAC refused the request (403): the current user lacks a rule for it.',
  PLUGIN_API_FAILED: 'The API server could not be reached, or refused the request.',
  PLUGIN_INVALID_SPEC: 'The QueueMigration’s spec does not validate, so its queues are unknown.',
  PLUGIN_SECRET_KEY: 'A Secret the QueueMigration references lacks the key it names.',
  PLUGIN_NO_DEAD_LETTER: 'No dead letter has the id asked for (it may have been redriven already).',
  PLUGIN_QUEUE_FAILED: 'Reading or changing a queue failed; nothing after the failed step was done.',
} as const;

export type PluginErrorCode = keyof typeof PLUGIN_ERRORS;

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

export class PluginError extends Error {
  readonly code: PluginErrorCode;

  constructor(code: PluginErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PluginError';
    this.code = code;
  }

  get exitCode(): number {
    return this.code === 'PLUGIN_USAGE' ? EXIT_USAGE : EXIT_FAILED;
  }
}
