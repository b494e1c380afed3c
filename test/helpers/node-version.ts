// vitest globalSetup: say which Node runs the CLI (FETCHALL_TEST_NODE, else vitest's own), and with
// FETCHALL_TEST_NODE_MAJOR set, stop the run before any test when that Node is another major.

import { execFileSync } from 'node:child_process';
import { NODE } from './cli.js';

export default function setup(): void {
  let version: string;
  try {
    version = execFileSync(NODE, ['-p', 'process.version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  } catch (err) {
    throw new Error(`FETCHALL_TEST_NODE=${NODE} does not run: ${(err as Error).message}`);
  }
  const want = process.env.FETCHALL_TEST_NODE_MAJOR;
  if (want && !version.startsWith(`v${want}.`)) {
    throw new Error(`the CLI was to run on Node ${want}, but ${NODE} is Node ${version}`);
  }
  console.log(`fetchall tests: the CLI runs on Node ${version} (${NODE}), vitest on Node ${process.version}`);
}
