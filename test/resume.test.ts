// --resume FILE: the hash set, reading a records file (bad and cut-off lines), and the built CLI
// interrupted by SIGINT halfway and resumed appending to the same file, checked against the server's log.

import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { loadResume, UrlHashSet } from '../src/resume.js';
import { BIN, NODE, run } from './helpers/cli.js';
import { urls, useServer } from './helpers/server.js';

const dir = mkdtempSync(join(tmpdir(), 'fetchall-resume-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('UrlHashSet', () => {
  it('holds what was added, only that, once', () => {
    const set = new UrlHashSet();
    for (let i = 0; i < 5000; i++) set.add(`https://example.com/p?i=${i}`);
    set.add('https://example.com/p?i=7');
    expect(set.size).toBe(5000);
    for (let i = 0; i < 5000; i++) expect(set.has(`https://example.com/p?i=${i}`)).toBe(true);
    for (let i = 5000; i < 10_000; i++) expect(set.has(`https://example.com/p?i=${i}`)).toBe(false);
    expect(set.has('')).toBe(false);
  });

  it('a million URLs in 16 MB: 8 bytes a slot, at most half full', () => {
    const set = new UrlHashSet();
    for (let i = 0; i < 1_000_000; i++) set.add(`https://host${i % 1000}.example/path/${i}`);
    expect(set.size).toBe(1_000_000);
    expect(set.bytes).toBe(16 * 1024 * 1024);
    expect(set.has('https://host999.example/path/999999')).toBe(true);
    expect(set.has('https://host999.example/path/1000000')).toBe(false);
  });
});

describe('loadResume', () => {
  it('keeps the URLs of ok records; failures, blank, bad and cut-off lines are not skipped', async () => {
    const file = join(dir, 'mixed.ndjson');
    const rec = (url: string, ok: boolean) => JSON.stringify({ index: 0, url, mode: 'async', ok, status: ok ? 200 : 500 });
    writeFileSync(
      file,
      [
        rec('http://a/1', true),
        rec('http://a/2', false),
        '',
        'not json',
        '{"no":"url"}',
        rec('http://a/3', true),
        '{"index":9,"url":"http://a/4","ok":tr',
      ].join('\n'),
    );
    const r = await loadResume(file);
    expect(r.exists).toBe(true);
    expect(r.done.size).toBe(2);
    expect(['http://a/1', 'http://a/2', 'http://a/3', 'http://a/4'].map((u) => r.done.has(u))).toEqual([true, false, true, false]);
    expect(r.unreadable).toBe(3);
    expect(r.endsMidLine).toBe(true);
  });

  it('endsMidLine: only a last line with no newline', async () => {
    const at = async (name: string, text: string) => {
      writeFileSync(join(dir, name), text);
      return (await loadResume(join(dir, name))).endsMidLine;
    };
    expect(await at('e0.ndjson', '')).toBe(false);
    expect(await at('e1.ndjson', '{"url":"http://a/1","ok":true}\n')).toBe(false);
    expect(await at('e2.ndjson', '{"url":"http://a/1","ok":true}\n\n')).toBe(false);
    expect(await at('e3.ndjson', '{"url":"http://a/1","ok":true}')).toBe(true);
    expect(await at('e4.ndjson', '{"url":"http://a/1","ok":true}\n{"url"')).toBe(true);
  });

  it('a missing file is an empty start; a directory is a usage error naming --resume', async () => {
    const missing = await loadResume(join(dir, 'nope.ndjson'));
    expect(missing.exists).toBe(false);
    expect(missing.done.size).toBe(0);
    await expect(loadResume(dir)).rejects.toThrow(/^--resume: cannot read '.*': is a directory$/);
  });
});

/** The CLI with stdout appended to `file` (as `>> file` does), stderr kept. */
function startAppending(args: string[], file: string) {
  const fd = openSync(file, 'a');
  const child = spawn(NODE, [BIN, ...args], {
    stdio: ['ignore', fd, 'pipe'],
    env: { ...process.env, NO_COLOR: '1', CI: 'true' },
  });
  closeSync(fd);
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
  });
  const done = new Promise<{ code: number | null; stderr: string }>((resolve) => child.on('close', (code) => resolve({ code, stderr })));
  return { child, done };
}

const recordsIn = (file: string) =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as { index: number; url: string; ok: boolean });

/** Resolves when `file` holds `n` lines; polled, with a deadline. */
async function waitForLines(file: string, n: number, deadlineMs = 20_000): Promise<void> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    const lines = readFileSync(file, 'utf8').split('\n').length - 1;
    if (lines >= n) return;
    if (Date.now() > until) throw new Error(`${file} had ${lines} lines, not ${n}, after ${deadlineMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('the CLI: interrupt, resume, exactly once', () => {
  const s = useServer();
  const children: ReturnType<typeof startAppending>[] = [];
  afterEach(() => {
    for (const c of children.splice(0)) c.child.kill('SIGKILL');
  });

  /** path → the i= values the server saw. */
  const seenIndexes = (tag: string) =>
    s.server
      .stats()
      .requests.filter((q) => q.path.includes(tag))
      .map((q) => Number(/[?&]i=(\d+)/.exec(q.path)![1]));

  it.each([
    ['threads', 'inline'],
    ['async', 'threads'],
  ])(
    'SIGINT a %s run halfway, resume it in %s appending to the same file: every URL ok exactly once',
    async (first, second) => {
      const tag = `&resume-${first}`;
      const list = urls(s.server.url, '/delay/100', 30, tag);
      const input = join(dir, `${first}.txt`);
      writeFileSync(input, `${list.join('\n')}\n`);
      const out = join(dir, `${first}.ndjson`);
      writeFileSync(out, '');
      s.server.reset();

      const a = startAppending(['-m', first, '-c', '2', '-f', 'ndjson', '-q', '--resume', out, input], out);
      children.push(a);
      await waitForLines(out, 8);
      a.child.kill('SIGINT');
      const ra = await a.done;
      expect(ra.code, ra.stderr).toBe(130);
      const before = recordsIn(out);
      const okBefore = new Set(before.filter((r) => r.ok).map((r) => r.index));
      expect(okBefore.size).toBeGreaterThanOrEqual(8);
      expect(okBefore.size).toBeLessThan(30);

      s.server.reset();
      const b = startAppending(['-m', second, '-c', '2', '-f', 'ndjson', '-q', '--resume', out, input], out);
      children.push(b);
      const rb = await b.done;
      expect(rb.code, rb.stderr).toBe(0);
      expect(rb.stderr).toContain(`skipped ${okBefore.size} URLs already ok there`);

      // The server was not asked again for what was ok before, and was asked once for all the rest.
      const again = seenIndexes(tag);
      expect(again.filter((i) => okBefore.has(i))).toEqual([]);
      expect(again.sort((x, y) => x - y)).toEqual(Array.from({ length: 30 }, (_, i) => i).filter((i) => !okBefore.has(i)));
      // Every line of the file is a whole record; the ok ones cover the list exactly once, by input index.
      const all = recordsIn(out);
      const ok = all.filter((r) => r.ok).map((r) => r.index);
      expect(ok.sort((x, y) => x - y)).toEqual(Array.from({ length: 30 }, (_, i) => i));
      for (const r of all) expect(r.url).toBe(list[r.index]);
    },
    60_000,
  );

  it('a missing file: says there is nothing to skip, and fetches everything', async () => {
    const list = urls(s.server.url, '/delay/0', 3, '&resume-missing');
    const r = await run(['-f', 'ndjson', '-q', '--resume', join(dir, 'not-there.ndjson'), ...list]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/--resume .*not-there\.ndjson: no such file yet, so nothing to skip/);
    expect(r.stdout.trim().split('\n')).toHaveLength(3);
  });

  it('a file whose last record was cut off: the next record starts on a line of its own', async () => {
    const list = urls(s.server.url, '/delay/0', 2, '&resume-cut');
    const out = join(dir, 'cut.ndjson');
    writeFileSync(out, `${JSON.stringify({ index: 0, url: list[0], ok: true })}\n{"index":1,"url":"${list[1]}","o`);
    const c = startAppending(['-f', 'ndjson', '-q', '--resume', out, ...list], out);
    children.push(c);
    const r = await c.done;
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('skipped 1 URL already ok there (1 line there not records, ignored)');
    const lines = readFileSync(out, 'utf8').split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[1]).toBe(`{"index":1,"url":"${list[1]}","o`);
    expect(JSON.parse(lines[2]!)).toMatchObject({ index: 1, url: list[1], ok: true });
    expect(lines[3]).toBe('');
  });

  it.each([
    ['a whole last line', (r: string) => `${r}\n`, 1],
    ['a blank last line', (r: string) => `${r}\n\n`, 2],
  ])('a file ending in %s: the records appended start right after it, no blank line between them', async (_, content, kept) => {
    const list = urls(s.server.url, '/delay/0', 3, `&resume-whole${kept}`);
    const out = join(dir, `whole${kept}.ndjson`);
    const first = JSON.stringify({ index: 0, url: list[0], ok: true });
    writeFileSync(out, content(first));
    const c = startAppending(['-c', '1', '-f', 'ndjson', '-q', '--resume', out, ...list], out);
    children.push(c);
    const r = await c.done;
    expect(r.code, r.stderr).toBe(0);
    const text = readFileSync(out, 'utf8');
    // What was there stays as it was; then exactly two records, each a line of its own.
    expect(text.startsWith(content(first))).toBe(true);
    const added = text.slice(content(first).length).split('\n');
    expect(added).toHaveLength(3);
    expect(added[2]).toBe('');
    expect(
      added
        .slice(0, 2)
        .map((l) => JSON.parse(l))
        .map((x) => [x.index, x.url, x.ok]),
    ).toEqual([
      [1, list[1], true],
      [2, list[2], true],
    ]);
  });

  it('every URL already ok: says so and exits 0 without fetching', async () => {
    const list = urls(s.server.url, '/delay/0', 2, '&resume-all');
    const out = join(dir, 'all.ndjson');
    writeFileSync(out, `${list.map((url, index) => JSON.stringify({ index, url, ok: true })).join('\n')}\n`);
    s.server.reset();
    const r = await run(['-f', 'ndjson', '--resume', out, ...list]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/skipped 2 URLs already ok there\n.*nothing left to fetch/);
    expect(s.server.stats().served).toBe(0);
  });

  it("with --shard, the skip count is the shard's own: the shards' counts add up to the list", async () => {
    const list = urls(s.server.url, '/delay/0', 8, '&resume-shard');
    const out = join(dir, 'shards.ndjson');
    writeFileSync(out, `${list.map((url, index) => JSON.stringify({ index, url, ok: true })).join('\n')}\n`);
    let total = 0;
    for (const k of [1, 2]) {
      const r = await run(['-f', 'ndjson', '--shard', `${k}/2`, '--shard-by', 'index', '--resume', out, ...list]);
      expect(r.code, r.stderr).toBe(0);
      total += Number(/skipped (\d+) URLs? already ok there/.exec(r.stderr)?.[1]);
    }
    expect(total).toBe(8);
  });

  it('--resume FILE -f csv >> FILE is a usage error: the file takes ndjson records only', async () => {
    const list = urls(s.server.url, '/delay/0', 2, '&resume-csv');
    const out = join(dir, 'csv.ndjson');
    writeFileSync(out, '');
    s.server.reset();
    const c = startAppending(['-f', 'csv', '--resume', out, ...list], out);
    children.push(c);
    const r = await c.done;
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^fetchall: .*--resume.*must be -f ndjson, not -f csv/);
    expect(readFileSync(out, 'utf8')).toBe('');
    expect(s.server.stats().served).toBe(0);
  });

  it('compare --resume is a usage error', async () => {
    const r = await run(['compare', '--resume', join(dir, 'x.ndjson'), `${s.server.url}/delay/0`]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^fetchall: --resume: not for compare/);
  });
});
