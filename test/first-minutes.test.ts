// The first minutes of a new user: a mistyped command gets "did you mean", `help` shows help;
// live lines fit a terminal (long URLs shortened, only on a terminal); the summary never wraps
// mid-word at 60 columns; threads' worker ids are 1..N; text lines come in time order.

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { RunEvent, UrlRecord } from '../src/core/types.js';
import { suggestCommand } from '../src/input.js';
import type { RunSummary } from '../src/measure/stats.js';
import { shortenUrl, wrapFigures } from '../src/render/format.js';
import { eventLine } from '../src/render/lines.js';
import { plain } from '../src/render/paint.js';
import { summaryText } from '../src/render/summary.js';
import { BIN, type CliResult, NODE, ndjson, run } from './helpers/cli.js';
import { urls, useServer } from './helpers/server.js';

const ctx = useServer();
const dir = mkdtempSync(join(tmpdir(), 'fetchall-first-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The built CLI run in `cwd`, to completion. */
function runIn(cwd: string, args: string[]): Promise<CliResult> {
  const child = spawn(NODE, [BIN, ...args], {
    cwd,
    env: { ...process.env, NO_COLOR: '1', CI: 'true' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  return new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr, tag: '' })));
}

describe('a mistyped command', () => {
  it('suggestCommand: a bare word within two edits of a command', () => {
    const names = ['compare', 'serve', 'demo', 'help'];
    expect(suggestCommand('comapre', names)).toBe('compare');
    expect(suggestCommand('serv', names)).toBe('serve');
    expect(suggestCommand('dmeo', names)).toBe('demo');
    expect(suggestCommand('Compare', names)).toBe('compare');
    expect(suggestCommand('urls', names)).toBeNull();
    expect(suggestCommand('urls.txt', names)).toBeNull();
    expect(suggestCommand('./serv', names)).toBeNull();
    expect(suggestCommand('x', names)).toBeNull();
  });

  it.each([
    ['comapre', 'compare'],
    ['serv', 'serve'],
  ])('fetchall %s → "did you mean %s?", exit 2, not "cannot read"', async (typo, meant) => {
    const r = await runIn(dir, [typo]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`fetchall: '${typo}' is not a command, a file or a URL: did you mean 'fetchall ${meant}'?\n`);
  });

  it('a word far from every command is still a missing file', async () => {
    const r = await runIn(dir, ['urls']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/urls: cannot read: no such file/);
  });

  it('a real file named like a command is read as a list', async () => {
    const own = mkdtempSync(join(dir, 'own-'));
    writeFileSync(join(own, 'serv'), `${ctx.server.url}/delay/1?named-serv\n`);
    writeFileSync(join(own, 'help'), `${ctx.server.url}/delay/1?named-help\n`);
    for (const name of ['serv', 'help']) {
      const r = await runIn(own, ['-f', 'ndjson', '-q', name]);
      expect(r.code, r.stderr).toBe(0);
      expect(ndjson(r.stdout)[0]!.url).toBe(`${ctx.server.url}/delay/1?named-${name}`);
    }
  });

  it('fetchall help and help compare show help, exit 0', async () => {
    const r = await runIn(dir, ['help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: fetchall \[options\] \[command\] \[source\.\.\.\]/);
    expect(r.stdout).toMatch(/compare \[options\] \[source\.\.\.\]/);
    const c = await runIn(dir, ['help', 'compare']);
    expect(c.code).toBe(0);
    expect(c.stdout).toMatch(/^Usage: fetchall compare/);
    expect(c.stdout).toMatch(/--modes/);
    const typo = await runIn(dir, ['help', 'comapre']);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toMatch(/did you mean 'fetchall help compare'\?/);
  });
});

describe('live lines on a terminal', () => {
  const long = 'http://very-long-hostname.example.com:8080/a/deeply/nested/path/to/some/resource/file.html?page=12&sort=desc';

  it('shortenUrl keeps the scheme, the host and the end of the path, with an ellipsis', () => {
    expect(shortenUrl(long, 200)).toBe(long);
    expect(shortenUrl(long, 80)).toBe('http://very-long-hostname.example.com:8080/…resource/file.html?page=12&sort=desc');
    expect(shortenUrl(long, 60)).toBe('http://very-long-hostname.example.com:8080/…age=12&sort=desc');
    // Short of room the scheme goes; a host too long to keep whole keeps its start, as the path keeps its end.
    expect(shortenUrl(long, 50)).toBe('very-long-hostname.example.com:8080/…=12&sort=desc');
    expect(shortenUrl(long, 30)).toBe('very-long-hostname.ex…ort=desc');
    for (const w of [8, 20, 30, 45, 60, 80, 100]) expect(shortenUrl(long, w).length, String(w)).toBeLessThanOrEqual(w);
    expect(shortenUrl('http://h/x', 8)).toBe('h/x');
  });

  const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);
  const rec: UrlRecord = {
    index: 3,
    url: long,
    mode: 'async',
    ok: true,
    status: 200,
    bytes: 1024,
    start: T0,
    end: T0 + 501,
    ms: 501,
    attempts: 1,
    worker: null,
    error: null,
    file: null,
    finalUrl: null,
    redirects: 0,
    ttfbMs: null,
    contentType: null,
  };
  const events: RunEvent[] = [
    { kind: 'start', index: 3, url: long, t: T0, worker: 2, attempt: 1 },
    { kind: 'done', record: rec },
    { kind: 'fail', record: { ...rec, ok: false, status: 404, error: { code: 'HTTP_STATUS', message: '404 Not Found' } } },
  ];

  it('eventLine at a terminal width: the URL shortened so the line fits; no width, the whole URL', () => {
    for (const e of events) {
      expect(eventLine(e, T0, plain)).toContain(long);
      for (const w of [100, 120]) {
        const line = eventLine(e, T0, plain, w);
        expect(line.length, line).toBeLessThan(w);
        expect(line).toContain('…');
        expect(line).toMatch(/ {2}(http:\/\/)?very-long-hostname\./);
        expect(line.endsWith('sort=desc')).toBe(true);
      }
    }
  });

  it('a narrow terminal: no wall-clock column below 80; a finish line without room for its URL names it by #index', () => {
    const [start, done] = events as [RunEvent, RunEvent];
    const at60 = eventLine(start, T0, plain, 60);
    expect(at60).toBe('+0.000s  start  #3    thread 2  very-long-hostname…ort=desc');
    expect(eventLine(done, T0, plain, 60)).toBe('+0.501s  done   #3    200  1.0 kB  501 ms  very-lo…ort=desc');
    // 40 columns: a line that would wrap leaves out its size
    expect(eventLine(done, T0, plain, 40)).toBe('+0.501s  done   #3    200  501 ms');
    expect(eventLine(done, T0, plain, 80)).toMatch(/^12:00:00\.501 {2}\+0\.501s {2}done /);
    for (const e of events) for (const w of [60, 80]) expect(eventLine(e, T0, plain, w).length).toBeLessThan(w);
  });

  it('threads at 40 columns: the thread column compacted so start and finish lines fit, by value', () => {
    const t = T0 + 3993;
    const start: RunEvent = { kind: 'start', index: 76, url: long, t, worker: 1, attempt: 1 };
    const done: RunEvent = { kind: 'done', record: { ...rec, index: 76, worker: 1, bytes: 15, end: t, ms: 12 } };
    const fail: RunEvent = {
      kind: 'fail',
      record: {
        ...rec,
        index: 76,
        worker: 1,
        ok: false,
        status: 404,
        end: t,
        ms: 12,
        error: { code: 'HTTP_STATUS', message: '404 Not Found' },
      },
    };
    expect(eventLine(start, T0, plain, 40)).toBe('+3.993s  start  #76   t1  very…ort=desc');
    expect(eventLine(done, T0, plain, 40)).toBe('+3.993s  done   #76   t1  200  12 ms');
    expect(eventLine(fail, T0, plain, 40)).toBe('+3.993s  fail   #76   t1  404 Not Found');
    for (const e of [start, done, fail]) expect(eventLine(e, T0, plain, 40).length).toBeLessThan(40);
    // wide enough: the full column, size included
    expect(eventLine(done, T0, plain, 79)).toMatch(/^\+3\.993s {2}done {3}#76 {3}thread 1 {2}200 {2}15 B {2}12 ms/);
  });

  it('a pipe gets the whole URL', async () => {
    const url = `${ctx.server.url}/delay/1?${'q'.repeat(150)}`;
    const r = await run([url]);
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n').filter((l) => / (start|done) /.test(l))).toHaveLength(2);
    for (const l of r.stdout.split('\n').filter((x) => / (start|done) /.test(x))) expect(l.endsWith(url)).toBe(true);
  });
});

describe('the summary at 60 columns', () => {
  const s: RunSummary = {
    mode: 'threads',
    startedAt: 0,
    wallMs: 12_345,
    startupMs: 2_850,
    total: 1200,
    ok: 1187,
    failed: 13,
    badInput: 2,
    bytes: 123_456_789,
    reqPerSec: 97.2,
    latency: { min: 101.2, p50: 501.7, p95: 1499.9, max: 12_001 },
    achievedConcurrency: 7.93,
    peakInFlight: 8,
    loopStallMs: 1.2,
    cpu: { selfMs: 2_345, helpersMs: 12_345, totalMs: 14_690 },
    memory: { selfPeakBytes: 123_000_000, helpersPeakBytes: 571_000_000 },
    threads: 10,
    helpers: 8,
    retries: 17,
    interrupted: 'SIGINT',
    notStarted: { count: 31, more: true },
    spans: [],
    spansDropped: 0,
    inFlight: { origin: 0, sliceMs: 1, values: [] },
  };

  it('no line longer than 60, every word whole, the same words in the same order', () => {
    const wide = summaryText(s, plain);
    const narrow = summaryText(s, plain, 60);
    expect(wide.split('\n').some((l) => l.length > 60)).toBe(true);
    for (const l of narrow.split('\n')) expect(l.length, l).toBeLessThanOrEqual(60);
    expect(narrow.split(/\s+/).filter(Boolean)).toEqual(wide.split(/\s+/).filter(Boolean));
    // A labelled figure continues under the first figure, not under the label.
    expect(narrow).toMatch(/\n {2}latency {6}min 101 ms {3}p50 502 ms {3}p95 1\.50 s\n {15}max 12\.0 s/);
  });

  it('wrapFigures leaves a line that fits alone, and a colour code with its figure', () => {
    expect(wrapFigures('  cpu          1.00 s', 60)).toEqual(['  cpu          1.00 s']);
    const dim = '   \x1b[2m(per URL, retry waits included)\x1b[22m';
    const lines = wrapFigures(`  latency      min 1 ms   p50 2 ms   p95 3 ms   max 4 ms${dim}`, 60);
    expect(lines).toEqual([
      '  latency      min 1 ms   p50 2 ms   p95 3 ms   max 4 ms',
      `               \x1b[2m(per URL, retry waits included)\x1b[22m`,
    ]);
  });
});

describe('threads mode', () => {
  it('worker ids are the pool as the user sees it: 1..N in records and lines', async () => {
    const list = urls(ctx.server.url, '/delay/20', 20, '&ids');
    const r = await run(['-m', 'threads', '-c', '4', '-f', 'ndjson', '-q', ...list]);
    expect(r.code, r.stderr).toBe(0);
    const ids = new Set(ndjson(r.stdout).map((x) => x.worker));
    expect(
      [...ids].every((id) => [1, 2, 3, 4].includes(id as number)),
      [...ids].join(','),
    ).toBe(true);
    const t = await run(['-m', 'threads', '-c', '3', '--no-timeline', ...urls(ctx.server.url, '/delay/20', 9, '&ids-text')]);
    const shown = new Set([...t.stdout.matchAll(/ thread (\d+) /g)].map((m) => Number(m[1])));
    expect(
      [...shown].every((id) => id >= 1 && id <= 3),
      [...shown].join(','),
    ).toBe(true);
  });

  it('a replacement for a crashed worker takes the freed id', async () => {
    const u = ctx.server.url;
    const list = [`${u}/delay/20?r1`, `${u}/__crash__`, ...urls(u, '/delay/20', 8, '&after-crash')];
    const r = await run(['-m', 'threads', '-c', '2', '-f', 'ndjson', ...list], { env: { FETCHALL_FAULT_INJECTION: '1' } });
    const recs = ndjson(r.stdout);
    expect(recs.some((x) => (x.error as { code: string } | null)?.code === 'WORKER_CRASH')).toBe(true);
    expect(new Set(recs.map((x) => x.worker)).size).toBeLessThanOrEqual(2);
    expect(recs.every((x) => x.worker === 1 || x.worker === 2)).toBe(true);
  });

  it('text lines print in time order (the +offset column never goes back)', async () => {
    const list = Array.from({ length: 60 }, (_, i) => `${ctx.server.url}/delay/${(i * 7) % 13}?order=${i}`);
    const r = await run(['-m', 'threads', '-c', '8', '--no-timeline', ...list]);
    expect(r.code, r.stderr).toBe(0);
    const offsets = r.stdout
      .split('\n')
      .map((l) => / {2}\+(\d+\.\d{3})s {2}(start|done|fail)/.exec(l))
      .filter((m) => m !== null)
      .map((m) => Number(m[1]));
    expect(offsets).toHaveLength(120);
    const back = offsets.findIndex((x, i) => i > 0 && x < offsets[i - 1]!);
    expect(back, `offset ${offsets[back]} after ${offsets[back - 1]}`).toBe(-1);
  });
});
