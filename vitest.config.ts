import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

/**
 * The unit, simulation and infra files run on every core: they only compute, and vitest's
 * default (one core fewer, for itself) leaves a 2-core CI machine running them one at a time.
 * The three share one worker count, as vitest requires of projects that run together.
 */
const cpuBoundWorkers = availableParallelism();

/**
 * Six projects: pure unit tests, the deterministic simulation, CDK template assertions, end-to-end tests of the
 * embedded cloud's parts (each starts its own moto_server), and end-to-end tests of the
 * deployed stack (one shared target, started by test/e2e/stack/global-setup.ts), and the
 * live console driven in a real browser (test/browser). The unit and e2e projects include the
 * local cloud's own tests (localcloud/test), which `npm test -w localcloud` also runs alone.
 * The end-to-end projects run their files one at a time: they share two cores with a
 * single-threaded moto, and timing-sensitive failovers should not fight for them.
 */
export default defineConfig({
  test: {
    projects: [
      { test: { name: 'unit', include: ['test/unit/**/*.test.ts', 'localcloud/test/unit/**/*.test.ts'], maxWorkers: cpuBoundWorkers } },
      // The deterministic simulation (test/simulation): seeded runs of the real domain over the memory stores.
      { test: { name: 'simulation', include: ['test/simulation/**/*.test.ts'], testTimeout: 120_000, maxWorkers: cpuBoundWorkers } },
      {
        test: {
          name: 'infra',
          include: ['test/infra/**/*.test.ts'],
          maxWorkers: cpuBoundWorkers,
          testTimeout: 120_000,
          hookTimeout: 180_000,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts', 'localcloud/test/e2e/**/*.test.ts'],
          exclude: ['test/e2e/stack/**'],
          fileParallelism: false,
          testTimeout: 120_000,
          hookTimeout: 180_000,
        },
      },
      {
        test: {
          name: 'e2e-stack',
          include: ['test/e2e/stack/**/*.test.ts'],
          globalSetup: ['test/e2e/stack/global-setup.ts'],
          fileParallelism: false,
          testTimeout: 120_000,
          hookTimeout: 300_000,
        },
      },
      {
        // The live console in headless Chromium against its own embedded cloud (scripts/lib/chromium.ts installs the browser).
        test: {
          name: 'browser',
          include: ['test/browser/**/*.test.ts'],
          fileParallelism: false,
          testTimeout: 120_000,
          hookTimeout: 300_000,
        },
      },
    ],
  },
});
