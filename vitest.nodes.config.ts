// The CLI tests that run on every supported Node major besides the one vitest runs on (package.json
// engines; README "Node versions"): `npm run test:nodes` runs them with FETCHALL_TEST_NODE set to a
// Node 22, then a Node 24 binary (scripts/test-nodes.sh). vitest itself stays on the Node that started
// it; only the CLI children change. The files: one run in every mode compared (agree), the signal and
// cleanup paths (worker threads, forked processes, the blocking client's Atomics.wait), -o output and
// the HTTP stack, and servers nobody here wrote (interop).

import { defineConfig } from 'vitest/config';
import base from './vitest.config.js';

export const NODE_TESTS = [
  'test/agree.test.ts',
  'test/startup-signal.test.ts',
  'test/input-signals.test.ts',
  'test/cleanup.test.ts',
  'test/save-dups.test.ts',
  'test/http-stack.test.ts',
  'test/interop/*.test.ts',
];

// Two files at a time, as `npm test` runs them; `--no-file-parallelism` for one at a time.
export default defineConfig({
  test: { ...base.test, include: NODE_TESTS },
});
