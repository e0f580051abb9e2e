import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { loadAll } from 'js-yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { CRD_NAME } from '../../src/operator/api/names.ts';
import { useTestNamespace } from '../env/local-node/e2e-support.ts';

const ROOT = path.join(import.meta.dirname, '../..');
const SCRIPT = path.join(ROOT, 'scripts/kind/up.sh');
const SCRIPT_TEXT = fs.readFileSync(SCRIPT, 'utf8');
const IMAGE_PREFIX = 'ghcr.io/queueshift/queueshift-';

interface Manifest {
  kind: string;
  metadata: { name: string; namespace?: string };
  spec?: { template?: { spec?: { containers?: { image?: string }[] } } };
}

/** The kustomizations the script applies (`apply … -k "$root/…"` or `"$here/…"`), as paths of this checkout. */
function appliedKustomizations(): string[] {
  return [...SCRIPT_TEXT.matchAll(/\bapply\b[^\n]*-k "\$(root|here)\/([^"]+)"/g)].map(([, base, rest = '']) =>
    path.join(base === 'root' ? ROOT : path.join(ROOT, 'scripts/kind'), rest),
  );
}

/** The stages of the Dockerfile: the targets `docker build --target` accepts. */
function dockerfileTargets(): string[] {
  const dockerfile = fs.readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
  return [...dockerfile.matchAll(/^FROM\s+\S+\s+AS\s+(\S+)$/gim)].map(([, target = '']) => target);
}

// No Docker engine exists on these machines, so the script cannot run here: what can be checked is
// that it is clean shell and that everything it builds and applies exists, builds, and is accepted
// by a real API server.
describe('scripts/kind/up.sh', () => {
  const { name: namespace, tools } = useTestNamespace('kind-script');
  const built = new Map<string, Manifest[]>();

  beforeAll(async () => {
    await tools.kubectl(['apply', '--server-side', '--force-conflicts', '-k', path.join(ROOT, 'config/crd')]);
    await tools.kubectl(['wait', '--for=condition=Established', `crd/${CRD_NAME}`, '--timeout=60s']);
    for (const kustomization of appliedKustomizations()) {
      const text = await tools.kubectl(['kustomize', kustomization]);
      built.set(
        kustomization,
        (loadAll(text) as (Manifest | null)[]).filter((m) => m !== null),
      );
    }
  });

  it('is clean under shellcheck', () => {
    const result = spawnSync('shellcheck', [SCRIPT], { encoding: 'utf8' });
    expect(result.error).toBeUndefined();
    expect(result.status, `${result.stdout}${result.stderr}`).toBe(0);
  });

  it('applies the CRD, the operator built on config/default, and the sample pipeline built on config/samples', () => {
    const relative = appliedKustomizations().map((dir) => path.relative(ROOT, dir));
    expect(relative).toEqual(['config/crd', 'scripts/kind/operator', 'scripts/kind/pipeline']);
    for (const [overlay, base] of [
      ['scripts/kind/operator', 'config/default'],
      ['scripts/kind/pipeline', 'config/samples'],
    ] as const) {
      const kustomization = fs.readFileSync(path.join(ROOT, overlay, 'kustomization.yaml'), 'utf8');
      expect(path.resolve(ROOT, overlay, /- (\.\.\/\S+)/.exec(kustomization)?.[1] ?? '')).toBe(
        path.join(ROOT, base),
      );
    }
    expect(SCRIPT_TEXT).toContain(`crd/${CRD_NAME}`);
  });

  it('builds every image the manifests name from a target of the Dockerfile', () => {
    const images = [...built.values()]
      .flat()
      .flatMap((manifest) => manifest.spec?.template?.spec?.containers ?? [])
      .flatMap((container) => (container.image?.startsWith(IMAGE_PREFIX) ? [container.image] : []));
    const targets = images.map((image) => image.slice(IMAGE_PREFIX.length).split(':')[0]);
    expect([...new Set(targets)].sort()).toEqual(['operator', 'webhook', 'worker']);
    expect(dockerfileTargets()).toEqual(expect.arrayContaining(targets));
    expect(SCRIPT_TEXT).toContain(IMAGE_PREFIX);
  });

  it('applies only objects the API server accepts (a server-side dry run)', async () => {
    for (const [kustomization, manifests] of built) {
      expect(manifests.length, kustomization).toBeGreaterThan(0);
      // The pipeline's own namespace stands in as this test's, which exists.
      const items = manifests.map((manifest) =>
        manifest.metadata.namespace === 'github-webhooks'
          ? { ...manifest, metadata: { ...manifest.metadata, namespace } }
          : manifest,
      );
      const accepted = await tools.kubectl(
        ['apply', '--server-side', '--dry-run=server', '-o', 'name', '-f', '-'],
        JSON.stringify({ apiVersion: 'v1', kind: 'List', items }),
      );
      expect(accepted.trim().split('\n').length, kustomization).toBe(manifests.length);
    }
  });
});
