import { parseConsumerEnv, type IdempotencyConfig, type Known } from '../../adapter/index.ts';
import type { QueueMigrationSpec } from '../api/spec-schema.ts';
import type { OriginalSettings } from '../api/status-schema.ts';
import { desiredSettings } from '../stages/container-settings.ts';
import type { EnvEntry } from '../stages/observations.ts';

/** A Secret key's value in the migration's namespace; rejects when it cannot be read. */
export type SecretLookup = (ref: { name: string; key: string }) => Promise<string>;

async function valueOf(entry: EnvEntry, lookup: SecretLookup): Promise<string> {
  const from = entry.valueFrom;
  if (from === undefined) return entry.value ?? '';
  if (from.secretKeyRef !== undefined) return lookup(from.secretKeyRef);
  throw new Error(
    `${entry.name} comes from a ConfigMap or the downward API, which the operator does not read`,
  );
}

/** Settings of the store that are the consumer's own, not the operator's: where done keys live. */
const OWN_STORE_VARIABLES = new Set(['IDEMPOTENCY_KEY_PREFIX']);

/**
 * How long done marks are kept, which dates them (IdempotencyStore.markedDoneAt). Read when it can
 * be: without it the default is assumed, and a mark it dates wrongly is caught by the probe check
 * (probe-round.ts), so it never costs the probes themselves.
 */
const RETENTION_VARIABLE = 'IDEMPOTENCY_RETENTION';

async function retentionOf(liveEnv: readonly EnvEntry[], lookup: SecretLookup): Promise<[string, string][]> {
  const entry = liveEnv.find((e) => e.name === RETENTION_VARIABLE);
  if (entry === undefined) return [];
  return valueOf(entry, lookup).then(
    (value) => [[entry.name, value]],
    () => [],
  );
}

/**
 * The idempotency store the consumers mark deliveries done in, as the operator configures them:
 * their recorded settings with the store pinned (container-settings.ts) plus the key prefix and,
 * when it can be read, the retention from the consumer's live env (`liveEnv`; the operator records
 * only the variables it manages), parsed by the same code the worker parses its environment with,
 * so the probe looks where a worker writes.
 */
export async function probeStoreSettings(
  spec: QueueMigrationSpec,
  originals: readonly OriginalSettings[],
  lookup: SecretLookup,
  liveEnv: readonly EnvEntry[] = [],
): Promise<Known<IdempotencyConfig>> {
  const original = spec.consumers
    .map(({ name }) => originals.find((o) => o.role === 'consumer' && o.deployment === name))
    .find((o) => o !== undefined);
  if (original === undefined) {
    return { known: false, reason: 'no consumer settings are recorded yet' };
  }
  let env: Record<string, string>;
  try {
    const entries = [
      ...desiredSettings(spec, original, 'redis').env,
      ...liveEnv.filter((entry) => OWN_STORE_VARIABLES.has(entry.name)),
    ];
    env = Object.fromEntries([
      ...(await Promise.all(
        entries.map(async (entry) => [entry.name, await valueOf(entry, lookup)] as const),
      )),
      ...(await retentionOf(liveEnv, lookup)),
    ]);
  } catch (error) {
    return { known: false, reason: error instanceof Error ? error.message : String(error) };
  }
  const parsed = parseConsumerEnv(env);
  if (!parsed.ok) {
    return {
      known: false,
      reason: `the consumers' store settings: ${parsed.problems.map((p) => `${p.variable} ${p.message}`).join('; ')}`,
    };
  }
  const store = parsed.config.idempotency;
  if (store.connection.tls !== undefined) {
    return {
      known: false,
      reason:
        'the idempotency store is reached over TLS with files mounted in the consumer pods, which the operator cannot read',
    };
  }
  return { known: true, value: store };
}
