import type { Action, ContainerSettings } from './actions.ts';

function describeSettings(settings: ContainerSettings): string {
  const env = settings.env.map((entry) => {
    const ref = entry.valueFrom?.secretKeyRef ?? entry.valueFrom?.configMapKeyRef;
    if (ref !== undefined) return `${entry.name} from ${ref.name}/${ref.key}`;
    if (entry.valueFrom?.fieldRef !== undefined)
      return `${entry.name} from ${entry.valueFrom.fieldRef.fieldPath}`;
    return entry.value === '' ? `${entry.name} unset` : `${entry.name}=${entry.value ?? ''}`;
  });
  const volume =
    settings.tlsVolume && `volume ${settings.tlsVolume.secretName} at ${settings.tlsVolume.mountPath}`;
  return [...env, ...(volume === undefined ? [] : [volume])].join(', ');
}

/** An action in words, for status.plan of a dry run (values of Secrets never appear: only their names). */
export function describeAction(action: Action): string | undefined {
  switch (action.kind) {
    case 'applySettings':
      return `set ${action.role} ${action.deployment}/${action.container}: ${describeSettings(action.settings)}`;
    case 'applyCanary':
      return `run canary ${action.name} of ${action.producer} with ${action.replicas} replica(s): ${describeSettings(action.settings)}`;
    case 'deleteCanary':
      return `delete canary ${action.name}`;
    default:
      return undefined;
  }
}
