/** The delivery both ingest benchmarks send: the first `push` example of @octokit/webhooks-examples. */
import { createRequire } from 'node:module';
import type { WebhookDefinition } from '@octokit/webhooks-examples';

const definitions = createRequire(import.meta.url)('@octokit/webhooks-examples') as WebhookDefinition[];
const push = definitions.find((definition) => definition.name === 'push')?.examples[0];
if (push === undefined) throw new Error('@octokit/webhooks-examples has no push example');

export const PUSH_EVENT = 'push';
/** Compact JSON, as GitHub sends it. */
export const pushBody = JSON.stringify(push);
