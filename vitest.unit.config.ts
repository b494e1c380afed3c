// The unit tests alone: pure modules imported from src/, no built CLI, no child processes. This is
// what `npm run mutate` (Stryker) runs against each mutant, so it must stay fast and deterministic.

import { defineConfig } from 'vitest/config';

export const UNIT_TESTS = [
  'test/options.test.ts',
  'test/input.test.ts',
  'test/rules.test.ts',
  'test/summary.test.ts',
  'test/render.test.ts',
  'test/run.test.ts',
  'test/write.test.ts',
];

export default defineConfig({
  test: {
    include: UNIT_TESTS,
    testTimeout: 10_000,
  },
});
