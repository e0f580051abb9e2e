import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { RedisConnectionConfig, RedisStreamsConfig, SqsConfig } from '../../../adapter/index.ts';
import { redisEndpoint, sqsConfig } from '../../../operator/api/queue-endpoints.ts';
import { queueMigrationSpec, type QueueMigrationSpec } from '../../../operator/api/spec-schema.ts';
import type { MigrationClient, ObjectRef } from '../migration-client.ts';
import { PluginError } from '../plugin-error.ts';

/** The name this tool shows in CLIENT LIST; it never joins the consumer group. */
const TOOL_NAME = 'kubectl-queueshift';

/** The adapter configuration of a QueueMigration's queues, with its Secrets resolved. */
export interface QueueSettings {
  redis: RedisStreamsConfig;
  sqs: SqsConfig;
  /** Removes the TLS files written for this invocation. */
  dispose(): void;
}

/** The spec as the operator reads it (defaults filled in), or a refusal naming each bad field. */
export function migrationSpec(spec: unknown, ref: ObjectRef): QueueMigrationSpec {
  const parsed = queueMigrationSpec.safeParse(spec);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => `spec.${issue.path.join('.')}: ${issue.message}`);
  throw new PluginError(
    'PLUGIN_INVALID_SPEC',
    `QueueMigration "${ref.name}" in namespace "${ref.namespace}" has an invalid spec: ${problems.join('; ')}`,
  );
}

async function connection(
  redis: QueueMigrationSpec['redis'],
  namespace: string,
  client: MigrationClient,
  scratch: () => string,
): Promise<RedisConnectionConfig> {
  const endpoint = redisEndpoint(redis);
  const password =
    redis.passwordSecretRef === undefined
      ? undefined
      : (
          await client.secretValue(namespace, redis.passwordSecretRef, 'spec.redis.passwordSecretRef')
        ).toString('utf8');
  const { tls } = redis;
  // The adapter reads PEM files, as the pods do from the mounted Secret: written to a private
  // folder for the length of this invocation.
  const pem = async (key: string | undefined, field: string): Promise<string | undefined> => {
    if (tls === undefined || key === undefined) return undefined;
    const value = await client.secretValue(
      namespace,
      { name: tls.secretName, key },
      `spec.redis.tls.${field}`,
    );
    const file = path.join(scratch(), field);
    fs.writeFileSync(file, value, { mode: 0o600 });
    return file;
  };
  const caFile = await pem(tls?.caKey, 'caKey');
  const certFile = await pem(tls?.certKey, 'certKey');
  const keyFile = await pem(tls?.keyKey, 'keyKey');
  return {
    endpoint,
    ...(redis.username !== undefined && { username: redis.username }),
    ...(password !== undefined && { password }),
    ...(tls !== undefined && {
      tls: {
        ...(caFile !== undefined && { caFile }),
        ...(certFile !== undefined && { certFile }),
        ...(keyFile !== undefined && { keyFile }),
      },
    }),
  };
}

/**
 * Resolves the Redis and SQS settings of a QueueMigration the way its pods get them: Secrets by
 * reference, read through the API server with the current user's rights. SQS credentials come from
 * the default AWS chain of the machine the plugin runs on, never from the cluster.
 */
export async function resolveQueueSettings(
  spec: QueueMigrationSpec,
  namespace: string,
  client: MigrationClient,
): Promise<QueueSettings> {
  let folder: string | undefined;
  const scratch = (): string => (folder ??= fs.mkdtempSync(path.join(os.tmpdir(), 'queueshift-plugin-')));
  const dispose = (): void => {
    if (folder !== undefined) fs.rmSync(folder, { recursive: true, force: true });
  };
  try {
    const { redis, sqs } = spec;
    return {
      redis: {
        connection: await connection(redis, namespace, client, scratch),
        stream: redis.stream,
        group: redis.group,
        consumerName: TOOL_NAME,
        blockMs: 1_000,
        claimIdleMs: 60_000,
        maxDeliveries: 5,
      },
      sqs: sqsConfig(sqs, 1),
      dispose,
    };
  } catch (error) {
    dispose();
    throw error;
  }
}
