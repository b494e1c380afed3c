// Pool processes end when fetchall says so, not when they notice: an engine's close() stops every
// process it started (checked in this process, where no orphan check would hide a close() that
// forgot them); threads and inline start none.

import { readFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Engine, RequestOptions } from '../src/core/types.js';
import { type ServerProcess, spawnServer } from '../src/server/process.js';
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
  work: null,
};

// The engines run from the build, as the CLI runs them: a worker thread is started from its file.
const load = async (mode: 'threads' | 'processes' | 'inline'): Promise<Engine> => {
  if (mode === 'processes') {
    const { ProcessesEngine }: typeof import('../src/engines/processes.js') = await import(
      new URL('../dist/engines/processes.js', import.meta.url).href
    );
    return new ProcessesEngine(options, 2);
  }
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

describe.each(['threads', 'processes', 'inline'] as const)('%s engine', (mode) => {
  it('close() stops every process it started, at once', async () => {
    const engine = await load(mode);
    try {
      await within(engine.init(), 'the engine to start');
      const r = await within(
        engine.fetch({ index: 0, url: `${server.url}/bytes/10?close-${mode}` }, new AbortController().signal, () => {}),
        'one request',
      );
      expect(r.status).toBe(200);
      started = engine.helperPids();
      // threads and inline start no process: their HTTP runs on a relay thread in this one.
      expect(started.length).toBe(mode === 'processes' ? 2 : 0);
      expect(started.filter(alive)).toEqual(started);
    } finally {
      await within(engine.close(), 'close()');
    }
    expect(await stillAlive(started)).toEqual([]);
    expect(engine.helperPids()).toEqual([]);
  });
});
