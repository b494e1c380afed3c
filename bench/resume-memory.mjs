// --resume at scale: a 1,000,000-line records file, generated here, read by the built CLI; prints the
// CLI's own peak RSS with and without --resume and how long it took.   npm run build && node bench/resume-memory.mjs [LINES]
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startServer } from '../dist/server/index.js';

const lines = Number(process.argv[2] ?? 1_000_000);
const dir = mkdtempSync(join(tmpdir(), 'fetchall-resume-bench-'));
const file = join(dir, 'big.ndjson');
const server = await startServer({ port: 0 });
try {
  // Records shaped as fetchall writes them; every fifth one failed (not skipped).
  const out = createWriteStream(file);
  for (let i = 0; i < lines; i++) {
    const ok = i % 5 !== 0;
    const rec = {
      index: i,
      url: `https://host${i % 5000}.example.com/some/path/to/page-${i}.html?q=${i}`,
      mode: 'async',
      ok,
      status: ok ? 200 : 503,
      bytes: 18_234,
      start: '2026-01-01T12:00:01.123Z',
      end: '2026-01-01T12:00:01.456Z',
      ms: 333.1,
      attempts: 1,
      worker: null,
      error: ok ? null : { code: 'HTTP_STATUS', message: 'HTTP 503' },
      file: null,
    };
    if (!out.write(`${JSON.stringify(rec)}\n`)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  const url = `${server.url}/delay/0`;
  /** The CLI's peak RSS in MB (from its summary) and its wall time, with these extra flags. */
  // Not a sync spawn: the server answering it runs on this process's event loop.
  const measure = async (extra) => {
    const t0 = performance.now();
    const { stdout: text } = await promisify(execFile)(process.execPath, ['bin/fetchall.js', '--no-timeline', ...extra, url], {
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1' },
    });
    const rss = Number(/memory\s+(\d+(?:\.\d+)?) MB peak RSS/.exec(text)?.[1]);
    return { rss, ms: Math.round(performance.now() - t0) };
  };
  const base = await measure([]);
  const resumed = await measure(['--resume', file]);
  const mb = (statSync(file).size / 1e6).toFixed(0);
  console.log(`records file: ${lines.toLocaleString('en-US')} lines, ${mb} MB, ${Math.round(lines * 0.8).toLocaleString('en-US')} ok URLs`);
  console.log(`peak RSS without --resume: ${base.rss} MB (${base.ms} ms)`);
  console.log(`peak RSS with    --resume: ${resumed.rss} MB (${resumed.ms} ms)  → +${(resumed.rss - base.rss).toFixed(0)} MB`);
} finally {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
}
