// The unit tests alone: pure modules imported from src/, no built CLI, no child processes. This is
// what `npm run mutate` (Stryker) runs against each mutant, so it must stay fast and deterministic.

import { defineConfig } from 'vitest/config';

// rules.test.ts is not here: beside its unit tests it runs the built CLI in every mode.
export const UNIT_TESTS = [
  'test/options.test.ts',
  'test/input.test.ts',
  'test/usage-error.test.ts',
  'test/rules-boundaries.test.ts',
  'test/summary.test.ts',
  'test/render.test.ts',
  'test/html.test.ts',
  'test/verdict.test.ts',
  'test/sinks.test.ts',
  'test/write.test.ts',
  'test/exit.test.ts',
  'test/queue.test.ts',
  'test/scheduler.test.ts',
  'test/run.test.ts',
];

export default defineConfig({
  test: {
    include: UNIT_TESTS,
    testTimeout: 10_000,
  },
});
