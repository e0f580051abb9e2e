/**
 * Writes crds/queueshift.dev_queuemigrations.yaml from the zod schema the operator validates with.
 * `node scripts/generate-crd.ts --check` exits 1 when the committed file is stale instead.
 */
import fs from 'node:fs';
import path from 'node:path';
import { renderCrd } from '../src/operator/api/crd.ts';

export const CRD_FILE = path.join(import.meta.dirname, '..', 'crds', 'queueshift.dev_queuemigrations.yaml');

const wanted = renderCrd();
if (process.argv.includes('--check')) {
  const current = fs.existsSync(CRD_FILE) ? fs.readFileSync(CRD_FILE, 'utf8') : '';
  if (current !== wanted) {
    console.error(`${CRD_FILE} is stale: run node scripts/generate-crd.ts`);
    process.exit(1);
  }
} else {
  fs.writeFileSync(CRD_FILE, wanted);
  console.log(`wrote ${CRD_FILE}`);
}
