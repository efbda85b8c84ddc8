import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    setupFiles: ['test/support/quiet-sdk.ts'],
    // One Temporal dev server, one time-skipping server and one container engine serve the whole
    // run; files share them, so they run one at a time (time skipping is global to its server).
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 180_000,
    pool: 'forks',
    // The JSON report is what .ci/run counts; its second run (against the Temporal cluster) names another file.
    reporters: [
      'default',
      ['json', { outputFile: process.env.MEDIC_TEST_REPORT || 'test-results/vitest.json' }],
    ],
  },
});
