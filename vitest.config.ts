import { defineConfig } from 'vitest/config';

// Each layer runs alone with `vitest run --project <layer>`. Integration and e2e files start
// their own real services on free ports (testbed/), so files can run side by side; two at a
// time suits a 2-core machine (SENTINEL_INTEGRATION_WORKERS / SENTINEL_E2E_WORKERS to change).
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: [
            'test/unit/**/*.test.ts',
            'policy/**/*.test.ts',
            'domain/**/*.test.ts',
            'analysis/**/*.test.ts',
          ],
        },
      },
      {
        test: {
          name: 'workflow',
          include: ['test/workflow/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          testTimeout: 180_000,
          hookTimeout: 240_000,
          // Most of an integration file's time is waiting (outages, pod start delays, analysis
          // intervals), so two files at a time roughly halve the layer on a 2-core machine.
          maxWorkers: Number(process.env.SENTINEL_INTEGRATION_WORKERS ?? 2),
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          testTimeout: 300_000,
          hookTimeout: 300_000,
          maxWorkers: Number(process.env.SENTINEL_E2E_WORKERS ?? 2),
        },
      },
    ],
  },
});
