import { IDEMPOTENCY_STORE_LOCATORS } from '../../adapter/index.ts';
import type { QueueMigrationSpec } from '../api/spec-schema.ts';
import type { PreflightCheck } from '../api/status-schema.ts';
import type { Role } from '../stages/actions.ts';
import { managedVariables } from '../stages/container-settings.ts';
import type { ContainerObservation, DeploymentObservation, EnvFromSource } from '../stages/observations.ts';

export const ENV_FROM_CHECK = 'managed-env-from';

/** The bound of a check's message in status.preflight (status-schema.ts); the API server refuses longer. */
const MESSAGE_LIMIT = 1_024;

/** A managed container and those of its `envFrom` sources that may set a variable the migration manages. */
interface ContainerSources {
  deployment: string;
  container: string;
  role: Role;
  sources: readonly EnvFromSource[];
}

/**
 * A source sets `prefix + key` for each of its keys: with no prefix any key may be a managed
 * variable, with one only if some managed variable starts with it (`DB_` never yields `SQS_…`).
 */
function mayCarryManaged(source: EnvFromSource, role: Role): boolean {
  const prefix = source.prefix ?? '';
  return managedVariables(role).some((variable) => variable.startsWith(prefix));
}

function containersWithSources(
  spec: QueueMigrationSpec,
  deployments: ReadonlyMap<string, DeploymentObservation>,
): ContainerSources[] {
  const targets = [
    ...spec.producers.map((target) => ({ target, role: 'producer' as const })),
    ...spec.consumers.map((target) => ({ target, role: 'consumer' as const })),
  ];
  return targets.flatMap(({ target, role }) => {
    const envFrom = deployments.get(target.name)?.container?.envFrom ?? [];
    const sources = envFrom.filter((source) => mayCarryManaged(source, role));
    return sources.length === 0
      ? []
      : [{ deployment: target.name, container: target.container, role, sources }];
  });
}

function describeSource(source: EnvFromSource): string {
  return `${source.kind} ${source.name}${source.prefix === undefined ? '' : ` (prefix ${source.prefix})`}`;
}

function describeContainer(found: ContainerSources): string {
  const sources = found.sources.map(describeSource).join(', ');
  return `${found.role} ${found.deployment}/${found.container} takes envFrom ${sources}`;
}

/**
 * Why it matters, for the kinds of source found. The operator has no right to read ConfigMaps
 * (config/rbac/role.yaml) and reads only the Secrets a migration names for its own connections,
 * so it cannot tell whether a source holds a managed variable: it says so instead of guessing.
 */
function consequences(found: readonly ContainerSources[]): string {
  const kinds = new Set(found.flatMap((c) => c.sources.map((s) => s.kind)));
  const unread = [
    ...(kinds.has('ConfigMap') ? ['may not read ConfigMaps'] : []),
    ...(kinds.has('Secret') ? ['never reads Secrets taken through envFrom'] : []),
  ];
  return (
    ': a variable the operator sets (QUEUE_TYPE, REDIS_* …) that also comes from there is overridden ' +
    'by its env entries while the migration runs, but cleanup removes only env entries: SQS_QUEUE_URL ' +
    'and the other SQS settings that come from there stay in the pods (naming a deleted queue after ' +
    `cleanup.deleteQueue), so remove them from those sources once the migration succeeded. ` +
    `Whether they hold any is unknown: the operator ${unread.join(' and ')}`
  );
}

/** As many containers as fit the message bound, the rest counted. */
function fitted(found: readonly ContainerSources[], tail: string): string {
  const described = found.map(describeContainer);
  for (let shown = described.length; shown > 0; shown -= 1) {
    const rest = described.length - shown;
    const text = described.slice(0, shown).join('; ') + (rest === 0 ? '' : `; and ${rest} more container(s)`);
    if (text.length + tail.length <= MESSAGE_LIMIT) return text + tail;
  }
  return `${described.length} container(s) take envFrom${tail}`.slice(0, MESSAGE_LIMIT);
}

/**
 * A warning, never a failure (the migration works: `env` wins over `envFrom` for the same name),
 * for the producer and consumer containers whose `envFrom` may set a managed variable; no check
 * when none does.
 */
export function envFromCheck(
  spec: QueueMigrationSpec,
  deployments: ReadonlyMap<string, DeploymentObservation>,
): PreflightCheck[] {
  const found = containersWithSources(spec, deployments);
  if (found.length === 0) return [];
  return [{ name: ENV_FROM_CHECK, outcome: 'warning', message: fitted(found, consequences(found)) }];
}

export const STORE_LOCATION_CHECK = 'idempotency-store-in-env';

/**
 * Whether the store may be located through `envFrom` rather than `env`: at the first level of
 * precedence that env or a source may set, env must be the one that does (env wins for a name).
 */
function storeFromSources(container: ContainerObservation): boolean {
  const sources = container.envFrom ?? [];
  for (const names of IDEMPOTENCY_STORE_LOCATORS) {
    if (container.env.some((entry) => (names as readonly string[]).includes(entry.name))) return false;
    if (sources.some((source) => names.some((name) => name.startsWith(source.prefix ?? '')))) return true;
  }
  return false;
}

/**
 * A failure for the consumers whose idempotency store may be located through `envFrom`. The
 * operator keeps the store where the recorded env puts it (container-settings.ts); what comes from
 * a source it cannot record, and once it sets REDIS_* (or pins IDEMPOTENCY_REDIS_* from the env's
 * REDIS_*) the store would move, to where no done mark written before is found: a delivery handled
 * before the switch and delivered again after it would run again. The user's fix is env entries.
 */
export function storeLocationCheck(
  spec: QueueMigrationSpec,
  deployments: ReadonlyMap<string, DeploymentObservation>,
): PreflightCheck[] {
  const unpinned = spec.consumers.filter((target) => {
    const container = deployments.get(target.name)?.container;
    return container !== undefined && storeFromSources(container);
  });
  if (unpinned.length === 0) return [];
  const named = unpinned.map((target) => `${target.name}/${target.container}`).join(', ');
  const message =
    `the idempotency store of consumer ${named} may be located through envFrom, which the operator ` +
    'cannot record: once it sets REDIS_* the store would move and the done marks written so far would ' +
    "not be found. Set IDEMPOTENCY_REDIS_ADDRESS and the store's other settings in the container's env " +
    '(env wins over envFrom), then the migration starts';
  return [{ name: STORE_LOCATION_CHECK, outcome: 'failed', message: message.slice(0, MESSAGE_LIMIT) }];
}
