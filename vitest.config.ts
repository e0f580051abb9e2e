import { defineConfig } from 'vitest/config';

// Three tiers, run one after another by scripts/test.sh (the machines have 2 cores):
// unit needs nothing; integration and e2e share one environment of real servers, started by
// test/env/global-setup.ts when `npm run env:up` has not already started it.
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
          globalSetup: ['test/env/global-setup.ts'],
          testTimeout: 300_000,
          hookTimeout: 300_000,
          // e2e files mostly wait on controllers; running two at once halves the wall time.
          maxWorkers: 2,
        },
      },
    ],
  },
});
