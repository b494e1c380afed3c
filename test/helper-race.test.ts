// sync-request's helper processes and their ports: the port a helper gets cannot be taken by another
// process before the helper listens on it, concurrent runs do not collide, a helper's stderr never
// reaches the user, and no helper outlives its run.

import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { receiveMessageOnPort } from 'node:worker_threads';
import { afterAll, describe, expect, it } from 'vitest';
import type { RelayReply } from '../src/sync/protocol.js';
import type { Relay } from '../src/sync/relay.js';
import { ndjson, run } from './helpers/cli.js';
import { kill, leftover } from './helpers/procs.js';
import { useServer } from './helpers/server.js';

const ctx = useServer();

type Rec = { ok: boolean; attempts: number; url: string; error: { code: string; message: string } | null };

const dir = mkdtempSync(join(tmpdir(), 'fetchall-race-'));
// Preloaded into every node process of a run (NODE_OPTIONS), acting only in a helper: it binds
// the helper's port before sync-rpc's worker does, just as another process racing for the same
// free port would. A helper that binds the port itself then dies with an EADDRINUSE stack.
const THIEF = join(dir, 'port-thief.cjs');
writeFileSync(
  THIEF,
  `const a = process.argv;
if (/helper-wrapper\\.js$/.test(a[1] || '') && /^\\d+$/.test(a[3] || '')) {
  const s = require('node:net').createServer((c) => c.destroy());
  s.on('error', () => {}); // already held for the helper: the thief gets nothing
  s.listen(Number(a[3]), '127.0.0.1');
  s.unref();
}
`,
);

// Preloaded the same way: a helper that writes a stack trace to its stderr as it starts.
const NOISE = join(dir, 'helper-noise.cjs');
writeFileSync(
  NOISE,
  `if (/helper-wrapper\\.js$/.test(process.argv[1] || '')) process.stderr.write(new Error('EADDRINUSE from the helper').stack + '\\n');\n`,
);

const noStack = (stderr: string) => {
  expect(stderr).not.toMatch(/EADDRINUSE/);
  expect(stderr).not.toMatch(/^ {4}at /m);
};

describe('the port a helper is given', () => {
  let relay: Relay | null = null;
  afterAll(async () => {
    await relay?.close();
  });

  it('stays held from the moment the relay picks it, so no other process can bind it', async () => {
    // The relay runs its thread from the built file, as the CLI does.
    const built: typeof import('../src/sync/relay.js') = await import(new URL('../dist/sync/relay.js', import.meta.url).href);
    relay = await built.Relay.start();
    const { port, flag } = relay.client();
    const cell = new Int32Array(flag);
    port.postMessage({ kind: 'free-port' });
    expect(Atomics.wait(cell, 0, 0, 10_000)).not.toBe('timed-out');
    const reply = receiveMessageOnPort(port)?.message as RelayReply;
    const chosen = Number(Buffer.from(reply.stdout!).toString());
    expect(chosen).toBeGreaterThan(0);
    const err = await new Promise<NodeJS.ErrnoException | null>((resolve) => {
      const other = createServer();
      other.once('error', resolve);
      other.listen(chosen, '127.0.0.1', () => other.close(() => resolve(null)));
    });
    expect(err?.code).toBe('EADDRINUSE');
    port.close();
  });
});

describe.each(['threads', 'inline'] as const)('%s mode', (mode) => {
  it('starts its helpers even when another process tries to take their ports, and prints no helper stack', async () => {
    const u = ctx.server.url;
    const r = await run(['-m', mode, '-c', '4', '-f', 'ndjson', `${u}/bytes/10?a`, `${u}/bytes/10?b`, `${u}/bytes/10?c`], {
      env: { NODE_OPTIONS: `--require ${THIEF}` },
    });
    noStack(r.stderr);
    const recs = ndjson(r.stdout) as Rec[];
    expect(recs).toHaveLength(3);
    for (const rec of recs) expect(rec).toMatchObject({ ok: true, attempts: 1 });
    expect(r.code).toBe(0);
    expect(await leftover(r.tag)).toEqual([]);
  });

  it("keeps a helper's stderr from the user", async () => {
    const r = await run(['-m', mode, '-c', '2', '-f', 'ndjson', `${ctx.server.url}/bytes/10`], {
      env: { NODE_OPTIONS: `--require ${NOISE}` },
    });
    noStack(r.stderr);
    expect(ndjson(r.stdout)).toMatchObject([{ ok: true }]);
    expect(r.code).toBe(0);
  });
});

describe('concurrent threads-mode runs', () => {
  it('never collide on a helper port: no stack trace, every URL ok, no helper left', async () => {
    const u = ctx.server.url;
    const list = (round: number, p: number) => Array.from({ length: 12 }, (_, i) => `${u}/bytes/10?r=${round}&p=${p}&i=${i}`);
    const tags: string[] = [];
    try {
      for (let round = 0; round < 2; round++) {
        const results = await Promise.all([0, 1, 2].map((p) => run(['-q', '-m', 'threads', '-c', '8', '-f', 'ndjson', ...list(round, p)])));
        for (const r of results) {
          tags.push(r.tag);
          noStack(r.stderr);
          const recs = ndjson(r.stdout) as Rec[];
          expect(recs).toHaveLength(12);
          expect(recs.filter((x) => !x.ok)).toEqual([]);
          expect(r.code).toBe(0);
        }
      }
      for (const tag of tags) expect(await leftover(tag)).toEqual([]);
    } finally {
      for (const tag of tags) kill(await leftover(tag, 0));
    }
  });
});
