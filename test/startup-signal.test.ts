// A signal while the engine is still starting (a pool of 32 processes takes seconds):
// one line on stderr saying so and how many URLs were not started, the signal's status, nothing left running.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { type Running, start } from './helpers/cli.js';
import { leftover, processesTagged } from './helpers/procs.js';
import { urls, useServer } from './helpers/server.js';

const ctx = useServer();
const dir = mkdtempSync(join(tmpdir(), 'fetchall-startup-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * Longer than leftover's usual grace: a pool process still starting when the signal comes may not
 * have its IPC channel yet, so it ends by its own orphan check (process-worker.ts, 200 ms).
 */
const STARTUP_GRACE_MS = 1500;

let running: Running | null = null;
afterEach(() => {
  running?.child.kill('SIGKILL');
  running = null;
});

/** Wait until the pool has begun starting processes (the CLI itself carries the tag too), then signal it. */
async function signalDuringStartup(r: Running, sig: NodeJS.Signals): Promise<void> {
  const end = Date.now() + 20_000;
  while (processesTagged(r.tag).length < 2) {
    if (Date.now() > end) throw new Error('no pool process appeared within 20 s');
    await new Promise((res) => setTimeout(res, 10));
  }
  // Fewer than all 32 processes: the pool is still starting.
  expect(processesTagged(r.tag).length).toBeLessThan(33);
  r.child.kill(sig);
}

describe('a signal during start-up of the processes pool', () => {
  it('fetch: SIGINT → one line naming the start-up and the URLs not started, exit 130', async () => {
    const list = join(dir, 'three.txt');
    writeFileSync(list, `${urls(ctx.server.url, '/delay/10', 3, '&startup').join('\n')}\n`);
    running = start(['-m', 'processes', '-c', '32', list], { stdin: 'ignore' });
    await signalDuringStartup(running, 'SIGINT');
    const r = await running.done;
    expect(r.code).toBe(130);
    expect(r.stderr).toBe('fetchall: interrupted by SIGINT during start-up of the processes pool: 3 URLs not started\n');
    expect(r.stdout).toBe('');
    expect(await leftover(r.tag, STARTUP_GRACE_MS)).toEqual([]);
  });

  it('fetch from stdin (not counted): SIGTERM → the line without a count, exit 143', async () => {
    running = start(['-m', 'processes', '-c', '32', '-'], { stdin: 'pipe' });
    running.child.stdin!.write(`${ctx.server.url}/delay/10\n`);
    await signalDuringStartup(running, 'SIGTERM');
    const r = await running.done;
    expect(r.code).toBe(143);
    expect(r.stderr).toBe('fetchall: interrupted by SIGTERM during start-up of the processes pool: no URL started\n');
  });

  it('compare: SIGTERM → the line with the list length, exit 143', async () => {
    running = start(['compare', '--modes', 'processes,async', '-c', '32', ...urls(ctx.server.url, '/delay/10', 2, '&cmp-startup')], {
      stdin: 'ignore',
    });
    await signalDuringStartup(running, 'SIGTERM');
    const r = await running.done;
    expect(r.code).toBe(143);
    expect(r.stderr).toContain('fetchall: interrupted by SIGTERM during start-up of the processes pool: 2 URLs not started\n');
    expect(r.stderr).not.toMatch(/\bat \S+:\d+:\d+/);
    expect(await leftover(r.tag, STARTUP_GRACE_MS)).toEqual([]);
  });
});
