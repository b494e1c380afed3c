// Pool processes end when fetchall says so, not when they notice: an engine's close() stops every
// process it started (checked in the engine's own process, before it ends, where no orphan check
// would hide a close() that forgot them); threads and inline start none. The engine runs in a child
// on the CLI's node (helpers/engine-close.mjs), so FETCHALL_TEST_NODE covers it as it does the CLI.

import { execFileSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ServerProcess, spawnServer } from '../src/server/process.js';
import { NODE, track } from './helpers/cli.js';
import { within } from './helpers/wait.js';

const NODE_VERSION = execFileSync(NODE, ['-p', 'process.version'], { encoding: 'utf8' }).trim();

// In a process of its own: inline mode blocks the engine's event loop for the whole request.
let server: ServerProcess;
beforeAll(async () => {
  server = await spawnServer();
});
afterAll(async () => {
  await server?.close();
});

const SCRIPT = fileURLToPath(new URL('./helpers/engine-close.mjs', import.meta.url));

interface Closed {
  node: string;
  status: number | null;
  started: number[];
  aliveBeforeClose: number[];
  aliveAfterClose: number[];
  helperPidsAfter: number[];
}

/** helpers/engine-close.mjs on the CLI's node; its pool processes carry the tag, so a failed test kills them too. */
async function closeIn(mode: string): Promise<Closed> {
  const tag = `fetchall-test-${randomUUID()}`;
  const child = track(
    spawn(NODE, [SCRIPT, mode, server.url], { env: { ...process.env, FETCHALL_TEST_TAG: tag }, stdio: ['ignore', 'pipe', 'pipe'] }),
    tag,
  );
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const code = await within(new Promise<number | null>((r) => child.on('close', r)), `engine-close.mjs ${mode}`, 30_000);
  if (code !== 0) throw new Error(`engine-close.mjs ${mode} exited with ${code}:\n${err}`);
  return JSON.parse(out) as Closed;
}

describe.each(['threads', 'processes', 'inline'] as const)('%s engine', (mode) => {
  it('close() stops every process it started, at once', async () => {
    const r = await closeIn(mode);
    expect(r.node).toBe(NODE_VERSION);
    expect(r.status).toBe(200);
    // threads and inline start no process: their HTTP runs on a relay thread in the engine's process.
    expect(r.started.length).toBe(mode === 'processes' ? 2 : 0);
    expect(r.aliveBeforeClose).toEqual(r.started);
    expect(r.aliveAfterClose).toEqual([]);
    expect(r.helperPidsAfter).toEqual([]);
  });
});
