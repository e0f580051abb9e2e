import { CONTROL_ANNOTATIONS } from '../../operator/api/names.ts';
import type { ControlAction } from './plugin-args.ts';

/**
 * A fresh token per invocation: the operator acts on a token once, so the same command run twice
 * acts twice, and a leftover annotation never acts again. The time makes it readable in status,
 * the random part keeps two invocations in the same millisecond apart.
 */
export function controlToken(now: number, random: string): string {
  return `${new Date(now).toISOString()}-${random}`;
}

/**
 * The merge patch of one action: pause and resume set spec.paused; the one-shot actions set their
 * annotation to the token. Nothing else of the object is touched.
 */
export function controlPatch(action: ControlAction, token: string): object {
  switch (action) {
    case 'pause':
      return { spec: { paused: true } };
    case 'resume':
      return { spec: { paused: false } };
    case 'promote':
    case 'abort':
    case 'retry':
      return { metadata: { annotations: { [CONTROL_ANNOTATIONS[action]]: token } } };
  }
}

/** What the user is told once the API server accepted the patch. */
export function controlDone(action: ControlAction, name: string, token: string): string {
  const object = `queuemigration.queueshift.dev/${name}`;
  switch (action) {
    case 'pause':
      return `${object} paused (spec.paused=true); a rollback in progress continues, and so do sweeps of SQS once consumers read only Redis\n`;
    case 'resume':
      return `${object} resumed (spec.paused=false)\n`;
    case 'promote':
    case 'abort':
    case 'retry':
      return (
        `${object} ${action} requested with token ${token}; the operator acts on it once ` +
        `(\`kubectl queueshift status ${name}\` shows when)\n`
      );
  }
}
