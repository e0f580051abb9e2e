import { Watch, type V1Deployment } from '@kubernetes/client-node';
import { adminKubeConfig } from '../../env/kube/accounts.ts';
import type { KubeEndpoint } from '../../env/state.ts';
import { waitUntil } from '../../env/wait.ts';

/** `QUEUE_TYPE/QUEUE_FALLBACK_TYPE` of a Deployment's first container, or `deleted`. */
export function queueSettingsOf(deployment: V1Deployment | undefined): string {
  if (deployment === undefined) return 'deleted';
  const env = deployment.spec?.template.spec?.containers[0]?.env ?? [];
  const value = (name: string): string => env.find((e) => e.name === name)?.value ?? '';
  return `${value('QUEUE_TYPE')}/${value('QUEUE_FALLBACK_TYPE')}`;
}

/**
 * Every change to the queue settings of some Deployments, in the order a watch sees them: unlike
 * polling, it misses no step however short, so tests can assert the exact order of the changes.
 */
export class QueueSettingsWatch {
  /** `<deployment> <settings>`, one entry a change. */
  readonly changes: string[] = [];
  private readonly last = new Map<string, string>();
  private readonly names: readonly string[];
  private controller: AbortController | undefined;

  private constructor(names: readonly string[]) {
    this.names = names;
  }

  /** Starts watching; resolves once the watch has seen the first `present` of them. */
  static async start(
    kube: KubeEndpoint,
    namespace: string,
    names: readonly string[],
    present = names.length,
  ): Promise<QueueSettingsWatch> {
    const watch = new QueueSettingsWatch(names);
    watch.controller = await new Watch(adminKubeConfig(kube)).watch(
      `/apis/apps/v1/namespaces/${namespace}/deployments`,
      {},
      (type: string, object: V1Deployment) => {
        watch.seen(object.metadata?.name ?? '', type === 'DELETED' ? undefined : object);
      },
      () => undefined,
    );
    await waitUntil(() => watch.last.size >= present, {
      what: `the watch to list ${names.slice(0, present).join(', ')}`,
    });
    return watch;
  }

  /** Forgets what was seen so far: the changes from here on are what a test asserts. */
  reset(): void {
    this.changes.length = 0;
  }

  stop(): void {
    this.controller?.abort();
  }

  private seen(name: string, deployment: V1Deployment | undefined): void {
    if (!this.names.includes(name)) return;
    const settings = queueSettingsOf(deployment);
    if (this.last.get(name) !== settings) this.changes.push(`${name} ${settings}`);
    this.last.set(name, settings);
  }
}
