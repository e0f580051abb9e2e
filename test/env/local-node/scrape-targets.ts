import fs from 'node:fs';
import path from 'node:path';
import type { V1Pod } from '@kubernetes/client-node';
import { LOOPBACK } from '../ports.ts';
import { deploymentName } from './owner.ts';

/** One entry of a Prometheus file_sd target file. */
export interface TargetGroup {
  targets: string[];
  labels: Record<string, string>;
}

/**
 * Prometheus targets for a Ready pod: one group per container, at 127.0.0.1 and the container's
 * port (never the pod's recorded IP). `prometheus.io/scrape: "false"` opts a pod out;
 * `prometheus.io/port` selects the container that declares that port; `prometheus.io/path`
 * sets the metrics path (default /metrics).
 */
export function scrapeTargetGroups(pod: V1Pod, ports: Readonly<Record<string, number>>): TargetGroup[] {
  const annotations = pod.metadata?.annotations ?? {};
  if (annotations['prometheus.io/scrape'] === 'false') return [];
  let containers = pod.spec?.containers ?? [];
  const wantedPort = Number(annotations['prometheus.io/port'] ?? NaN);
  if (Number.isInteger(wantedPort)) {
    const declaring = containers.filter((c) => (c.ports ?? []).some((p) => p.containerPort === wantedPort));
    if (declaring.length > 0) containers = declaring;
  }
  const deployment = deploymentName(pod);
  const groups: TargetGroup[] = [];
  for (const container of containers) {
    const port = ports[container.name];
    if (port === undefined) continue;
    const labels: Record<string, string> = {
      namespace: pod.metadata?.namespace ?? '',
      pod: pod.metadata?.name ?? '',
      container: container.name,
      __metrics_path__: annotations['prometheus.io/path'] ?? '/metrics',
    };
    if (deployment !== undefined) labels['deployment'] = deployment;
    groups.push({ targets: [`${LOOPBACK}:${port}`], labels });
  }
  return groups;
}

export function targetFile(fileSdDir: string, namespace: string, pod: string): string {
  return path.join(fileSdDir, `${namespace}_${pod}.json`);
}

/** Writes (temp file + rename, so Prometheus never reads half a file) or removes a target file. */
export function writeTargetFile(file: string, groups: readonly TargetGroup[]): void {
  if (groups.length === 0) {
    removeTargetFile(file);
    return;
  }
  const temp = path.join(path.dirname(file), `.${path.basename(file)}.tmp`);
  fs.writeFileSync(temp, JSON.stringify(groups, null, 2) + '\n');
  fs.renameSync(temp, file);
}

export function removeTargetFile(file: string): void {
  fs.rmSync(file, { force: true });
}
