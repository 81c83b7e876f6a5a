import { defineConfig } from 'vitest/config';

/**
 * The local cloud's own tests (`npm test -w localcloud`): unit tests, then end-to-end tests
 * that start DynamoDB Local and moto, one file at a time (a single-threaded moto and
 * timing-sensitive pollers should not fight for the cores). The root config runs the same
 * files in its `unit` and `e2e` projects, with the same settings.
 */
export default defineConfig({
  test: {
    projects: [
      { test: { name: 'unit', include: ['test/unit/**/*.test.ts'] } },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          fileParallelism: false,
          testTimeout: 120_000,
          hookTimeout: 180_000,
        },
      },
    ],
  },
});
