// Adds up the vitest JSON reports of every tier into one closing line that CI can read.
import fs from 'node:fs';
import path from 'node:path';

interface VitestReport {
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  numTodoTests: number;
}

const dir = process.argv[2];
if (!dir) throw new Error('usage: node scripts/test-summary.ts <results-folder>');
let passed = 0;
let failed = 0;
let skipped = 0;
for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.json'))) {
  const report = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')) as VitestReport;
  passed += report.numPassedTests;
  failed += report.numFailedTests;
  skipped += report.numPendingTests + report.numTodoTests;
}
console.log(`\ntests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
