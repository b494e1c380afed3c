// Records as jq and sort see them: the fields every mode reports (final_url, redirects, ttfb_ms,
// content_type, the ms offsets) by value, --no-header, --sort index and its bounded window, and
// the README's jq examples run on real output.

import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { MODES } from '../src/core/types.js';
import { parseRecord, type SavedRecord } from '../src/report/records.js';
import { ReorderWindow } from '../src/sinks/reorder.js';
import { BIN, NODE, ndjson, run } from './helpers/cli.js';
import { useServer } from './helpers/server.js';

const ctx = useServer();
const dir = mkdtempSync(join(tmpdir(), 'fetchall-records-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const hasJq = spawnSync('jq', ['--version']).status === 0;
const FETCHALL = `"${NODE}" "${BIN}"`;

const children = new Set<ChildProcess>();
afterEach(() => {
  for (const c of children) c.kill('SIGKILL');
  children.clear();
});

/**
 * A shell pipeline as a user types it, with a deadline. Not spawnSync: the server answering
 * these requests lives in this process.
 */
function sh(cmd: string, cwd = dir): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn('sh', ['-c', cmd], { cwd, env: { ...process.env, NO_COLOR: '1', CI: 'true' }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const deadline = setTimeout(() => child.kill('SIGKILL'), 60_000);
  return new Promise((resolve) =>
    child.on('close', (code) => {
      clearTimeout(deadline);
      children.delete(child);
      resolve({ code, stdout, stderr });
    }),
  );
}

const num = (v: unknown) => v as number;

/** How long /drip spreads its body over, after the head. */
const DRIP_MS = 800;

describe.each(MODES)('record fields in %s mode', (mode) => {
  it('final_url, redirects, ttfb_ms, content_type and the offsets, by value', { timeout: 60_000 }, async () => {
    const b = ctx.server.url;
    const list = [
      `${b}/redirect/2?m=${mode}`,
      `${b}/delay/300?m=${mode}`,
      `${b}/bytes/10?m=${mode}#part`,
      `${b}/status/404?m=${mode}`,
      'http://127.0.0.1:1/refused',
      'ftp://bad',
      // The head at once, then the body's 4 slices over DRIP_MS: the first byte is long before the end.
      `${b}/drip/4/${DRIP_MS}?m=${mode}`,
    ];
    const r = await run(['-m', mode, '-c', '4', '-f', 'ndjson', '-q', ...list]);
    const recs = ndjson(r.stdout);
    expect(recs).toHaveLength(list.length);
    const at = (i: number) => recs.find((x) => x.index === i)!;
    const text = 'text/plain; charset=utf-8';

    // Two hops followed; the final URL is the last hop (the server drops the query on redirect).
    expect(at(0)).toMatchObject({ status: 200, redirects: 2, final_url: `${b}/redirect/0`, content_type: text });
    // The head of /delay/300 comes no sooner than the server's delay, and no later than the end.
    expect(at(1)).toMatchObject({ status: 200, redirects: 0, final_url: list[1], content_type: text });
    expect(num(at(1).ttfb_ms)).toBeGreaterThanOrEqual(300);
    expect(num(at(1).ttfb_ms)).toBeLessThanOrEqual(num(at(1).ms));
    // The fragment is never sent, so the final URL has none.
    expect(at(2)).toMatchObject({ status: 200, final_url: `${b}/bytes/10?m=${mode}`, content_type: 'application/octet-stream' });
    expect(at(3)).toMatchObject({ status: 404, redirects: 0, content_type: text });
    // No response: no time to first byte, no type; the URL tried is still known.
    expect(at(4)).toMatchObject({ status: null, ttfb_ms: null, content_type: null, final_url: 'http://127.0.0.1:1/refused', redirects: 0 });
    // A bad line requested nothing.
    expect(at(5)).toMatchObject({ final_url: null, redirects: 0, ttfb_ms: null, content_type: null });
    // A slow body: ttfb_ms is the head's time, not the body's end. The body takes DRIP_MS after the
    // head, so ttfb_ms is about ms − DRIP_MS; half of DRIP_MS is the slack for timers and scheduling.
    expect(at(6)).toMatchObject({ ok: true, status: 200, bytes: 4 });
    expect(num(at(6).ms)).toBeGreaterThanOrEqual(DRIP_MS * 0.9);
    expect(num(at(6).ttfb_ms)).toBeGreaterThan(0);
    expect(num(at(6).ttfb_ms)).toBeLessThan(num(at(6).ms) - DRIP_MS / 2);

    const t0 = Date.parse(at(0).start as string) - num(at(0).start_ms);
    for (const x of recs) {
      expect(num(x.start_ms)).toBeGreaterThanOrEqual(0);
      // end_ms - start_ms is ms (ms is to 0.1, the offsets to 0.001).
      expect(Math.abs(num(x.end_ms) - num(x.start_ms) - num(x.ms))).toBeLessThanOrEqual(0.06);
      // The offsets and the ISO stamps tell the same times (the stamps are to the ms).
      expect(Math.abs(Date.parse(x.start as string) - (t0 + num(x.start_ms)))).toBeLessThanOrEqual(1.5);
      expect(Math.abs(Date.parse(x.end as string) - (t0 + num(x.end_ms)))).toBeLessThanOrEqual(1.5);
      if (x.ttfb_ms !== null) {
        expect(num(x.ttfb_ms)).toBeGreaterThan(0);
        expect(num(x.ttfb_ms)).toBeLessThanOrEqual(num(x.ms));
      }
    }

    // csv and tsv carry the same values in the appended columns, nulls as empty cells.
    const csv = await run(['-m', mode, '-c', '4', '-f', 'csv', '-q', list[0]!, list[4]!]);
    const [head, ...rows] = csv.stdout.trimEnd().split('\n');
    const cols = head!.split(',');
    expect(cols.slice(-7)).toEqual(['start_ms', 'end_ms', 'final_url', 'redirects', 'ttfb_ms', 'content_type', 'work_ms']);
    const byIndex = new Map(rows.map((row) => [row.split(',')[0], Object.fromEntries(row.split(',').map((v, i) => [cols[i], v]))]));
    expect(byIndex.get('0')).toMatchObject({ final_url: `${b}/redirect/0`, redirects: '2', content_type: text });
    expect(Number(byIndex.get('0')!.ttfb_ms)).toBeGreaterThan(0);
    expect(byIndex.get('1')).toMatchObject({ final_url: 'http://127.0.0.1:1/refused', redirects: '0', ttfb_ms: '', content_type: '' });
    const tsv = await run(['-m', mode, '-f', 'tsv', '-q', list[0]!]);
    expect(tsv.stdout.trimEnd().split('\n')[1]!.split('\t').slice(-4, -1)).toEqual([`${b}/redirect/0`, '2', expect.any(String)]);
    expect(tsv.stdout.trimEnd().split('\n')[1]!.split('\t').at(-1)).toBe(text);
  });
});

describe('--no-header', () => {
  it('csv and tsv: rows only, which sort takes as they are', { timeout: 30_000 }, async () => {
    const b = ctx.server.url;
    const urls = [`${b}/delay/200?h=a`, `${b}/delay/100?h=b`, `${b}/delay/1?h=c`].join(' ');
    for (const [fmt, sep] of [
      ['csv', ','],
      ['tsv', '\t'],
    ] as const) {
      const withHeader = await sh(`${FETCHALL} -f ${fmt} -q ${urls}`);
      expect(withHeader.stdout.split('\n')[0]).toMatch(/^index.url.mode/);
      const r = await sh(`${FETCHALL} -f ${fmt} -q --no-header ${urls} | sort -t '${sep}' -k1,1n | cut -f1,2 -d '${sep}'`);
      expect(r.code).toBe(0);
      expect(r.stdout.trimEnd().split('\n')).toEqual([`0${sep}${b}/delay/200?h=a`, `1${sep}${b}/delay/100?h=b`, `2${sep}${b}/delay/1?h=c`]);
    }
  });

  it('is a flag of its own: -H still sends a header', async () => {
    const r = await run(['-f', 'csv', '-q', '--no-header', '-H', 'X-Test: 1', `${ctx.server.url}/bytes/3`]);
    expect(r.code).toBe(0);
    expect(r.stdout.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stdout).toMatch(/^0,/);
  });
});

describe('--sort index', () => {
  // Ten URLs, each slower than the next: with -c 10 they finish in reverse. inline runs one at a
  // time, so its records are in input order already; the window is the same sink in every mode.
  const list = () => {
    const path = join(dir, 'decreasing.txt');
    const b = ctx.server.url;
    writeFileSync(path, `${Array.from({ length: 10 }, (_, i) => `${b}/delay/${100 + 80 * (9 - i)}?s=${i}`).join('\n')}\n`);
    return path;
  };

  it.each(['async', 'threads'])('puts %s records back in input order', { timeout: 60_000 }, async (mode) => {
    const path = list();
    // Without it, completion order: `sort -c` finds the indexes out of order.
    const plain = await sh(`${FETCHALL} -m ${mode} -c 10 -f csv --no-header -q ${path} | cut -d, -f1`);
    expect(plain.stdout.trimEnd().split('\n').map(Number)).not.toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const out = join(dir, `sorted-${mode}.csv`);
    const sorted = await sh(
      `${FETCHALL} -m ${mode} -c 10 -f csv --no-header --sort index -q ${path} > ${out} && cut -d, -f1 ${out} | sort -n -c`,
    );
    expect(sorted.code).toBe(0);
    expect(
      readFileSync(out, 'utf8')
        .trimEnd()
        .split('\n')
        .map((l) => Number(l.split(',')[0])),
    ).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('keeps a csv header first and text lines live', { timeout: 30_000 }, async () => {
    const path = list();
    const csv = await run(['-c', '10', '-f', 'csv', '--sort', 'index', '-q', path]);
    const lines = csv.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^index,/);
    expect(lines.slice(1).map((l) => Number(l.split(',')[0]))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    // Text lines show the run as it happens: the fastest (the last) finishes first.
    const text = await run(['-c', '10', '--sort', 'index', '--no-timeline', path]);
    const done = text.stdout.split('\n').filter((l) => / done /.test(l));
    expect(done[0]).toMatch(/#9 /);
  });

  it('is a usage error with another order', async () => {
    const r = await run(['--sort', 'url', `${ctx.server.url}/bytes/1`]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--sort/);
  });
});

describe('the reorder window', () => {
  const collect = (maxRows: number, maxChars = Infinity) => {
    const out: string[] = [];
    return { out, w: new ReorderWindow((row) => out.push(row), maxRows, maxChars) };
  };

  it('lets a row out once every earlier index is out', () => {
    const { out, w } = collect(10);
    w.push(1, 'b');
    w.push(2, 'c');
    expect(out).toEqual([]);
    w.push(0, 'a');
    expect(out).toEqual(['a', 'b', 'c']);
    w.push(3, 'd');
    expect(out).toEqual(['a', 'b', 'c', 'd']);
    expect(w.size).toBe(0);
  });

  it('holds exactly its capacity; one more forces the lowest out, and what it skipped comes late', () => {
    const { out, w } = collect(3);
    w.push(2, 'r2');
    w.push(4, 'r4');
    w.push(6, 'r6');
    // Full, not over: nothing out yet.
    expect(out).toEqual([]);
    expect(w.size).toBe(3);
    w.push(8, 'r8');
    // Over by one: only the lowest waiting row goes; 4 still waits for 3.
    expect(out).toEqual(['r2']);
    expect(w.size).toBe(3);
    w.push(3, 'r3');
    expect(out).toEqual(['r2', 'r3', 'r4']);
    // 0 and 1 were skipped: out as they come, out of order.
    w.push(0, 'r0');
    expect(out.at(-1)).toBe('r0');
    w.flush();
    expect(out).toEqual(['r2', 'r3', 'r4', 'r0', 'r6', 'r8']);
    expect(w.size).toBe(0);
  });

  it('is bounded by characters too', () => {
    const { out, w } = collect(100, 10);
    w.push(1, 'aaaa');
    w.push(2, 'bbbb');
    expect(out).toEqual([]);
    w.push(3, 'cccc');
    // 12 characters waiting > 10: the lowest goes, and the run after it follows.
    expect(out).toEqual(['aaaa', 'bbbb', 'cccc']);
  });

  it('never grows with the list while earlier rows are stuck', () => {
    const { out, w } = collect(1000);
    // Every 7th index (0 included) is a URL that never finishes: each one holds rows back
    // until the window is full, and no more.
    let peak = 0;
    let pushed = 0;
    for (let i = 0; i < 100_000; i++) {
      if (i % 7 === 0) continue;
      w.push(i, String(i));
      pushed++;
      peak = Math.max(peak, w.size);
      expect(out.length + w.size).toBe(pushed);
    }
    expect(peak).toBe(1000);
    w.flush();
    // All out, and still ascending: only the stuck ones are missing.
    expect(out).toHaveLength(pushed);
    expect(out.every((row, k) => k === 0 || Number(row) > Number(out[k - 1]))).toBe(true);
  });
});

describe('report reads records with and without the new fields', () => {
  const old = {
    index: 0,
    url: 'http://h/',
    mode: 'async',
    ok: true,
    status: 200,
    bytes: 1,
    start: '2026-01-01T00:00:00.000Z',
    end: '2026-01-01T00:00:00.010Z',
    ms: 10,
    attempts: 1,
    worker: null,
    error: null,
    file: null,
  };

  it('takes an older record as it is, and a newer one with its fields', () => {
    expect(parseRecord(JSON.stringify(old))).toMatchObject({ index: 0, finalUrl: null, redirects: null, ttfbMs: null, contentType: null });
    const now = { ...old, start_ms: 1.5, end_ms: 11.5, final_url: 'http://h/x', redirects: 1, ttfb_ms: 4.2, content_type: 'text/html' };
    expect(parseRecord(JSON.stringify(now)) as SavedRecord).toMatchObject({
      finalUrl: 'http://h/x',
      redirects: 1,
      ttfbMs: 4.2,
      contentType: 'text/html',
    });
    expect(parseRecord(JSON.stringify({ ...now, redirects: 'two' }))).toBe("not a fetchall record (bad 'redirects' field)");
  });
});

describe.skipIf(!hasJq)("the README's jq examples", () => {
  it('run with this jq on real output and answer correctly', { timeout: 30_000 }, async () => {
    const b = ctx.server.url;
    const urls = [700, 300, 600, 50, 550].map((ms, i) => `${b}/delay/${ms}?j=${i}`);
    urls.push(`${b}/redirect/1?j=r`);
    writeFileSync(join(dir, 'urls.txt'), `${urls.join('\n')}\n`);
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const section = readme.slice(readme.indexOf('### Records'));
    const block = /```sh\n([\s\S]*?)```/.exec(section)![1]!.trim().split('\n');
    const [fetch, ...jqs] = block;
    expect(fetch).toMatch(/^fetchall -f ndjson -q urls\.txt > run\.ndjson$/);
    const made = await sh(fetch!.replace(/^fetchall/, FETCHALL));
    expect(made.code).toBe(0);
    const recs = ndjson(readFileSync(join(dir, 'run.ndjson'), 'utf8'));
    expect(jqs).toHaveLength(3);
    const results = [];
    for (const line of jqs) {
      expect(line).toMatch(/^jq /);
      const r = await sh(line);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      results.push(r.stdout.trimEnd().split('\n'));
    }
    // The 5 slowest, slowest first.
    expect(results[0]).toHaveLength(5);
    expect(results[0]!.slice(0, 4).map((l) => /\/delay\/(\d+)/.exec(l)?.[1])).toEqual(['700', '600', '550', '300']);
    expect(results[0]![0]).toMatch(new RegExp(`^[\\d.]+ ms  ${b}/delay/700\\?j=0$`));
    // In flight 500 ms in: as the records say (the 700, 600 and 550 ms ones, on an idle machine).
    const t = 500;
    expect(Number(results[1]![0])).toBe(recs.filter((x) => num(x.start_ms) <= t && t < num(x.end_ms)).length);
    expect(Number(results[1]![0])).toBeGreaterThanOrEqual(2);
    // Where the redirect led.
    expect(results[2]).toEqual([`${b}/redirect/1?j=r -> ${b}/redirect/0`]);
  });
});
