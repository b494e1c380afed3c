// Helper processes end when fetchall says so, not when they notice: an engine's close() stops
// every helper it started (checked in this process, where no exit hook or orphan check would hide
// a close() that forgot them), and the exit hook kills an adopted helper on a forced exit.

import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Engine, RequestOptions } from '../src/core/types.js';
import { type ServerProcess, spawnServer } from '../src/server/process.js';
import { track } from './helpers/cli.js';
import { kill } from './helpers/procs.js';
import { within } from './helpers/wait.js';

// In its own process: inline mode blocks this one's event loop for the whole request.
let server: ServerProcess;
beforeAll(async () => {
  server = await spawnServer();
});
afterAll(async () => {
  await server?.close();
});

/** A grace for the kernel to finish a kill; far shorter than a helper's own 200 ms orphan check. */
const GRACE_MS = 150;

function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

async function stillAlive(pids: number[], graceMs = GRACE_MS): Promise<number[]> {
  const until = Date.now() + graceMs;
  let left = pids.filter(alive);
  while (left.length > 0 && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 10));
    left = left.filter(alive);
  }
  return left;
}

const options: RequestOptions = {
  method: 'GET',
  headers: [],
  userAgent: 'fetchall-test',
  timeoutMs: 10_000,
  maxRedirects: 5,
  maxSize: 1_000_000,
  outputDir: null,
  saveClaims: null,
  body: null,
  proxy: { proxy: null, noProxy: false, env: {} },
  insecure: false,
  cacert: null,
};

// The engines run from the build, as the CLI runs them: a worker thread is started from its file.
const load = async (mode: 'threads' | 'inline'): Promise<Engine> => {
  if (mode === 'threads') {
    const { ThreadsEngine }: typeof import('../src/engines/threads.js') = await import(
      new URL('../dist/engines/threads.js', import.meta.url).href
    );
    return new ThreadsEngine(options, 2);
  }
  const { InlineEngine }: typeof import('../src/engines/inline.js') = await import(
    new URL('../dist/engines/inline.js', import.meta.url).href
  );
  return new InlineEngine(options);
};

let started: number[] = [];
afterEach(() => {
  kill(started);
  started = [];
});

describe.each(['threads', 'inline'] as const)('%s engine', (mode) => {
  it('close() stops every helper process it started, at once', async () => {
    const engine = await load(mode);
    try {
      await within(engine.init(), 'the engine to start');
      const r = await within(
        engine.fetch({ index: 0, url: `${server.url}/bytes/10?close-${mode}` }, new AbortController().signal, () => {}),
        'one request',
      );
      expect(r.status).toBe(200);
      started = engine.helperPids();
      // threads: the pool of 2 shares one helper process (--helper-per-thread would start one each).
      expect(started.length).toBe(1);
      expect(started.filter(alive)).toEqual(started);
    } finally {
      await within(engine.close(), 'close()');
    }
    expect(await stillAlive(started)).toEqual([]);
    expect(engine.helperPids()).toEqual([]);
  });
});

describe('the exit hook', () => {
  it('kills an adopted helper when the process exits at once (a second Ctrl-C, a wedged stop)', async () => {
    const helpers = new URL('../dist/sync/helpers.js', import.meta.url).href;
    // A child that adopts a long sleeper as its helper, says its pid, and exits without cleaning up.
    const script = `
      import { spawn } from 'node:child_process';
      const { adoptHelper } = await import(${JSON.stringify(helpers)});
      const helper = spawn('sleep', ['30'], { stdio: 'ignore' });
      adoptHelper(helper.pid);
      process.stdout.write(helper.pid + '\\n', () => process.exit(130));
    `;
    const child = track(spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] }));
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    const code = await within(new Promise<number | null>((r) => child.on('close', (c) => r(c))), 'the child to exit');
    expect(code).toBe(130);
    const pid = Number(out.trim());
    expect(pid).toBeGreaterThan(0);
    started = [pid];
    expect(await stillAlive([pid])).toEqual([]);
  });
});
