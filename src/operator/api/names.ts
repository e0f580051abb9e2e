/** Identity of the QueueMigration API: what the CRD, the controller and kubectl agree on. */
export const API_GROUP = 'queueshift.dev';
export const API_VERSION = 'v1alpha1';
export const API_GROUP_VERSION = `${API_GROUP}/${API_VERSION}`;
export const KIND = 'QueueMigration';
export const LIST_KIND = 'QueueMigrationList';
export const PLURAL = 'queuemigrations';
export const SINGULAR = 'queuemigration';
export const SHORT_NAMES = ['qm'] as const;
export const CATEGORIES = ['queueshift'] as const;
export const CRD_NAME = `${PLURAL}.${API_GROUP}`;

/**
 * One-shot controls. The annotation's value is a token chosen by the user (a timestamp, a ticket
 * number); a token is acted on once, and status records the last one handled per control.
 */
export const CONTROL_ANNOTATIONS = {
  promote: `${API_GROUP}/promote`,
  abort: `${API_GROUP}/abort`,
  retry: `${API_GROUP}/retry`,
} as const;

export type Control = keyof typeof CONTROL_ANNOTATIONS;
