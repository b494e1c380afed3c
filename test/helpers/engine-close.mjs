// One engine's close(), in a process of its own on the node the CLI tests use (test/cleanup.test.ts
// runs `$NODE engine-close.mjs <mode> <server URL>`, NODE from helpers/cli.ts: FETCHALL_TEST_NODE or
// vitest's). The engine, from the build as the CLI runs it, fetches one URL and is closed; which of
// the processes it started outlive close() is checked here, before this process ends, where no
// orphan check would hide a close() that forgot them. One JSON line on stdout.

import { readFileSync } from 'node:fs';

const [mode, serverUrl] = process.argv.slice(2);

/** A grace for the kernel to finish a kill; far shorter than a helper's own 200 ms orphan check. */
const GRACE_MS = 150;
const DEADLINE_MS = 15_000;

function alive(pid) {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

async function stillAlive(pids) {
  const until = Date.now() + GRACE_MS;
  let left = pids.filter(alive);
  while (left.length > 0 && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 10));
    left = left.filter(alive);
  }
  return left;
}

function within(p, what) {
  let timer;
  const late = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${DEADLINE_MS} ms waiting for ${what}`)), DEADLINE_MS);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

/** RequestOptions (src/core/types.ts). */
const options = {
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

const dist = (file) => new URL(`../../dist/engines/${file}`, import.meta.url).href;
async function load() {
  if (mode === 'processes') return new (await import(dist('processes.js'))).ProcessesEngine(options, 2);
  if (mode === 'threads') return new (await import(dist('threads.js'))).ThreadsEngine(options, 2);
  if (mode === 'inline') return new (await import(dist('inline.js'))).InlineEngine(options);
  throw new Error(`no engine ${mode}`);
}

const engine = await load();
let status = null;
let started = [];
let aliveBeforeClose = [];
try {
  await within(engine.init(), 'the engine to start');
  const r = await within(
    engine.fetch({ index: 0, url: `${serverUrl}/bytes/10?close-${mode}` }, new AbortController().signal, () => {}),
    'one request',
  );
  status = r.status;
  started = engine.helperPids();
  aliveBeforeClose = started.filter(alive);
} finally {
  await within(engine.close(), 'close()');
}
const aliveAfterClose = await stillAlive(started);
process.stdout.write(
  `${JSON.stringify({ node: process.version, status, started, aliveBeforeClose, aliveAfterClose, helperPidsAfter: engine.helperPids() })}\n`,
);
