import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Kills every child a test started, even when it failed (test/helpers/cli.ts killAll).
    setupFiles: ['test/helpers/setup.ts'],
    // Says which Node runs the CLI: FETCHALL_TEST_NODE (scripts/test-nodes.sh), else this one.
    globalSetup: ['test/helpers/node-version.ts'],
    // The CLI tests start real processes, thread pools and servers: keep a 2-core machine sane.
    maxWorkers: 2,
    minWorkers: 1,
    testTimeout: 60_000,
    hookTimeout: 30_000,
  },
});
