import type { OriginalSettings } from '../api/status-schema.ts';
import type { Verdict } from '../analysis/verdict.ts';
import type { Action, ContainerSettings, Role } from './actions.ts';
import { desiredSettings, settingsApplied, type Mode } from './container-settings.ts';
import { canaryName, canaryReplicas, type Layout } from './layout.ts';
import type { DeploymentObservation } from './observations.ts';
import type { Pass } from './pass.ts';

/** One Deployment of the migration with the settings a layout wants it to have. */
export interface ResolvedTarget {
  name: string;
  container: string;
  role: Role;
  mode: Mode;
  observed: DeploymentObservation | undefined;
  /** Undefined when the original settings are unknown (never the case once started). */
  settings: ContainerSettings | undefined;
}

export interface ResolvedCanary {
  producer: string;
  name: string;
  container: string;
  replicas: number;
  settings: ContainerSettings;
  observed: DeploymentObservation | undefined;
}

export interface ResolvedLayout {
  targets: ResolvedTarget[];
  /** Canaries the layout wants (empty when none should run). */
  canaries: ResolvedCanary[];
  /** Canaries that exist and should not. */
  strayCanaries: { producer: string; name: string }[];
}

export function originalOf(pass: Pass, deployment: string): OriginalSettings | undefined {
  return pass.status.originals?.find((original) => original.deployment === deployment);
}

/** What every Deployment (and canary) should look like under `layout`, beside what it looks like. */
export function resolveLayout(pass: Pass, layout: Layout): ResolvedLayout {
  const { spec, observations } = pass;
  const roles = [
    ...spec.producers.map((t) => ({ ...t, role: 'producer' as const, mode: layout.producers })),
    ...spec.consumers.map((t) => ({ ...t, role: 'consumer' as const, mode: layout.consumers })),
  ];
  const targets = roles.map((target): ResolvedTarget => {
    const original = originalOf(pass, target.name);
    return {
      ...target,
      observed: observations.deployments.get(target.name),
      settings: original && desiredSettings(spec, original, target.mode),
    };
  });
  const weight = layout.canaryWeight;
  const canaries: ResolvedCanary[] = [];
  if (weight !== undefined) {
    for (const producer of spec.producers) {
      const original = originalOf(pass, producer.name);
      const observed = observations.deployments.get(producer.name);
      if (original === undefined || observed === undefined) continue;
      canaries.push({
        producer: producer.name,
        name: canaryName(producer.name),
        container: producer.container,
        replicas: canaryReplicas(observed.replicas, weight),
        settings: desiredSettings(spec, original, 'redis-with-sqs-fallback'),
        observed: observations.canaries.get(producer.name),
      });
    }
  }
  const strayCanaries =
    weight === undefined
      ? [...observations.canaries.keys()].map((producer) => ({ producer, name: canaryName(producer) }))
      : [];
  return { targets, canaries, strayCanaries };
}

/** The actions that bring every Deployment to the layout; none for what is already there. */
export function layoutActions(resolved: ResolvedLayout): Action[] {
  // Canaries go first: the rollback order removes them before producers return to SQS.
  const actions: Action[] = resolved.strayCanaries.map((stray) => ({ kind: 'deleteCanary', ...stray }));
  for (const target of resolved.targets) {
    const { observed, settings } = target;
    if (observed?.container === undefined || settings === undefined) continue;
    if (!settingsApplied(observed, target.role, settings)) {
      actions.push({
        kind: 'applySettings',
        deployment: target.name,
        container: target.container,
        role: target.role,
        settings,
      });
    }
  }
  for (const canary of resolved.canaries) {
    const { observed } = canary;
    if (observed?.replicas !== canary.replicas || !settingsApplied(observed, 'producer', canary.settings)) {
      actions.push({
        kind: 'applyCanary',
        producer: canary.producer,
        name: canary.name,
        container: canary.container,
        replicas: canary.replicas,
        settings: canary.settings,
      });
    }
  }
  return actions;
}

/** Whether the Deployment already carries the settings the layout wants it to have. */
export function carriesSettings(target: ResolvedTarget): boolean {
  const { observed, settings } = target;
  return observed !== undefined && settings !== undefined && settingsApplied(observed, target.role, settings);
}

export interface Scope {
  producers: boolean;
  consumers: boolean;
  canaries: boolean;
}

export const EVERYTHING: Scope = { producers: true, consumers: true, canaries: true };

function verdictWait(subject: string, verdicts: readonly Verdict[]): string | undefined {
  const own = verdicts.filter((v) => v.subject === subject);
  if (own.length === 0) return `a verdict on ${subject}`;
  return own.find((v) => v.verdict !== 'success')?.message;
}

/**
 * What the layout still waits for within `scope`, in words: every Deployment carries its settings
 * and every verdict about it is a success. Empty when ready.
 */
export function layoutWaits(resolved: ResolvedLayout, scope: Scope, verdicts: readonly Verdict[]): string[] {
  const waits: string[] = [];
  for (const target of resolved.targets) {
    if (!(target.role === 'producer' ? scope.producers : scope.consumers)) continue;
    const { observed, settings } = target;
    if (observed === undefined) waits.push(`Deployment ${target.name} to exist`);
    else if (observed.container === undefined)
      waits.push(`Deployment ${target.name} to have container ${target.container}`);
    else if (settings === undefined) waits.push(`the original settings of ${target.name}`);
    else if (!settingsApplied(observed, target.role, settings))
      waits.push(`Deployment ${target.name} to carry the ${target.mode} settings`);
    else {
      const wait = verdictWait(target.name, verdicts);
      if (wait !== undefined) waits.push(wait);
    }
  }
  if (scope.canaries) {
    for (const canary of resolved.canaries) {
      const { observed } = canary;
      if (observed?.replicas !== canary.replicas || !settingsApplied(observed, 'producer', canary.settings)) {
        waits.push(`canary ${canary.name} with ${canary.replicas} replica(s)`);
      } else {
        const wait = verdictWait(canary.name, verdicts);
        if (wait !== undefined) waits.push(wait);
      }
    }
    for (const stray of resolved.strayCanaries) waits.push(`canary ${stray.name} to be removed`);
  }
  return waits;
}
