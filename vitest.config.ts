import { configDefaults, defineConfig } from 'vitest/config';

// Four tiers, run one after another by scripts/test.sh (the machines have 2 cores):
// unit needs nothing; integration, e2e and faults share one environment of real servers, started
// by test/env/global-setup.ts when `npm run env:up` has not already started it. The fault
// scenarios stop, freeze and restart those shared servers, so they run alone, one file at a time.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          testTimeout: 10_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/env/global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          exclude: [...configDefaults.exclude, 'test/e2e/faults-*.test.ts'],
          globalSetup: ['test/env/global-setup.ts'],
          testTimeout: 300_000,
          hookTimeout: 300_000,
          // e2e files mostly wait on controllers; running two at once halves the wall time.
          maxWorkers: 2,
        },
      },
      {
        test: {
          name: 'faults',
          include: ['test/e2e/faults-*.test.ts'],
          globalSetup: ['test/env/global-setup.ts'],
          testTimeout: 480_000,
          hookTimeout: 300_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
