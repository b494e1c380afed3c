// Mutation testing (`npm run mutate`): mutants of the unit-tested pure modules, each run against the unit tests only.

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  // The unit tests alone: the CLI tests spawn dist/, which a mutant of src/ never reaches.
  vitest: { configFile: 'vitest.unit.config.ts', related: false },
  mutate: [
    'src/options.ts',
    'src/input.ts',
    'src/core/rules.ts',
    'src/core/errors.ts',
    'src/engines/save.ts',
    'src/render/*.ts',
    'src/core/clock.ts',
    'src/scheduler/*.ts',
    'src/exit.ts',
  ],
  coverageAnalysis: 'perTest',
  // A 2-core machine: one mutant per core, and room for a slow one before it counts as a timeout.
  concurrency: 2,
  timeoutMS: 30_000,
  timeoutFactor: 3,
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/mutation.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  clearTextReporter: { allowColor: false, logTests: false },
  thresholds: { high: 85, low: 70, break: null },
};
