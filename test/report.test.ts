// `fetchall report`: saved ndjson records read back (bad lines FILE:LINE, duplicates merged), the
// summaries rebuilt from them, and the command end to end on records from a real run of the CLI.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { reportCommand } from '../src/commands/report.js';
import type { UrlRecord } from '../src/core/types.js';
import { EXIT, getExitCode } from '../src/exit.js';
import { summaryKnownText } from '../src/render/known.js';
import { plain } from '../src/render/paint.js';
import { ndjson as ndjsonAt } from '../src/render/records.js';
import { parseRecord, readRecords, type SavedRecord } from '../src/report/records.js';
import { summarizeRecords, UNKNOWN_FROM_RECORDS } from '../src/report/summarize.js';
import { run } from './helpers/cli.js';
import { urls, useServer } from './helpers/server.js';

const T0 = Date.UTC(2026, 10, 25, 12, 0, 0);
const dir = mkdtempSync(join(tmpdir(), 'fetchall-report-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function rec(index: number, startMs: number, ms: number, over: Partial<UrlRecord> = {}): UrlRecord {
  return {
    index,
    url: `http://127.0.0.1:1/delay/${ms}?i=${index}`,
    mode: 'async',
    ok: true,
    status: 200,
    bytes: 100,
    start: T0 + startMs,
    end: T0 + startMs + ms,
    ms,
    attempts: 1,
    worker: null,
    error: null,
    file: null,
    finalUrl: null,
    redirects: 0,
    ttfbMs: null,
    contentType: null,
    ...over,
  };
}

const ndjson = (r: UrlRecord) => ndjsonAt(r, T0);

function file(name: string, lines: string[]): string {
  const path = join(dir, name);
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}

function terminal() {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  const term = { stdout, stderr, stdinIsTTY: false, columns: 100, rows: 60, paint: plain, errPaint: plain };
  return { term, out: () => out, err: () => err };
}

describe('parseRecord', () => {
  it('reads back what -f ndjson writes, times to epoch ms', () => {
    const r = parseRecord(ndjson(rec(3, 10, 25, { ok: false, status: 500, error: { code: 'HTTP_STATUS', message: 'HTTP 500' } })));
    expect(r).toMatchObject({ index: 3, mode: 'async', ok: false, status: 500, start: T0 + 10, end: T0 + 35, ms: 25 });
    expect((r as SavedRecord).error).toEqual({ code: 'HTTP_STATUS', message: 'HTTP 500' });
  });

  it('says why a line is not a record', () => {
    const good = JSON.parse(ndjson(rec(0, 0, 5)));
    expect(parseRecord('{"index":')).toBe('not JSON');
    expect(parseRecord('[1,2]')).toBe('not a JSON object');
    expect(parseRecord(JSON.stringify({ ...good, url: undefined }))).toBe("not a fetchall record (no 'url' field)");
    expect(parseRecord(JSON.stringify({ ...good, start: 'yesterday' }))).toBe("not a fetchall record (bad 'start' field)");
    expect(parseRecord(JSON.stringify({ ...good, mode: '\u001b[31mred' }))).toBe("not a fetchall record (bad 'mode' field)");
    expect(parseRecord(JSON.stringify({ ...good, end: '2000-01-01T00:00:00.000Z' }))).toBe("not a fetchall record ('end' before 'start')");
  });
});

describe('readRecords', () => {
  it('merges files and stdin, reports bad lines as FILE:LINE, keeps one record per URL and mode', async () => {
    const a = file('a.ndjson', [ndjson(rec(0, 0, 10)), 'garbage', '', ndjson(rec(1, 0, 10, { ok: false, status: 503 }))]);
    const b = file('b.ndjson', [ndjson(rec(1, 20, 10)), ndjson(rec(0, 30, 10)), ndjson(rec(0, 0, 10, { mode: 'inline' }))]);
    const stdin = new PassThrough();
    stdin.end(`${ndjson(rec(2, 0, 10))}\n{"index":1}\n`);
    const bad: string[] = [];
    const { merger, bad: n } = await readRecords([{ kind: 'file', path: a }, { kind: 'file', path: b }, { kind: 'stdin' }], stdin, (l) =>
      bad.push(l),
    );
    expect(bad).toEqual([`${a}:2: not JSON`, "<stdin>:2: not a fetchall record (no 'url' field)"]);
    expect(n).toBe(2);
    const summaries = merger.summaries();
    expect(summaries.map((m) => m.mode)).toEqual(['async', 'inline']);
    // #1 failed in a.ndjson and succeeded in b.ndjson: the rerun's ok record stands; #0's second copy is dropped.
    const async = summaries[0]!;
    expect(async.spans.map((r) => [r.index, r.ok, r.start - T0])).toEqual([
      [0, true, 0],
      [1, true, 20],
      [2, true, 0],
    ]);
    expect(async).toMatchObject({ total: 3, ok: 3, failed: 0, spansDropped: 0 });
    expect(merger.duplicates).toEqual(new Map([['async', 2]]));
  });
});

describe('summarizeRecords', () => {
  const records = [rec(0, 0, 100), rec(1, 100, 50), rec(2, 150, 10, { ok: false, status: 500, attempts: 3 }), rec(3, 0, 400)];
  const saved = records.map((r) => parseRecord(ndjson(r)) as SavedRecord);
  const s = summarizeRecords('async', saved);

  it('computes what the records hold exactly', () => {
    expect(s).toMatchObject({ mode: 'async', startedAt: T0, wallMs: 400, total: 4, ok: 3, failed: 1, bytes: 400, retries: 2 });
    expect(s.latency).toEqual({ min: 10, p50: 50, p95: 400, max: 400 });
    expect(s.achievedConcurrency).toBeCloseTo(560 / 400, 6);
    // #0 ends at 100 as #1 starts: a tie is no overlap, so the peak is 2 (#3 with one other).
    expect(s.peakInFlight).toBe(2);
    expect(s.spans.map((x) => [x.index, x.start - T0, x.end - T0])).toEqual([
      [0, 0, 100],
      [1, 100, 150],
      [2, 150, 160],
      [3, 0, 400],
    ]);
    expect(s.inFlight.values.reduce((a, v) => a + v * s.inFlight.sliceMs, 0)).toBeCloseTo(560, 6);
  });

  it('marks what records cannot know as unknown, never a number', () => {
    expect([s.cpu.totalMs, s.memory.selfPeakBytes, s.loopStallMs, s.threads]).toEqual([Number.NaN, Number.NaN, Number.NaN, Number.NaN]);
    const text = summaryKnownText(s, plain, UNKNOWN_FROM_RECORDS);
    for (const label of ['loop stall', 'cpu', 'memory', 'threads'])
      expect(text).toMatch(new RegExp(`^ {2}${label} +unknown \\(not in the records\\)$`, 'm'));
    expect(text).not.toMatch(/NaN/);
  });

  it('counts ends before starts at one instant (a staircase peaks at 1)', () => {
    const stairs = [0, 1, 2, 3].map((i) => parseRecord(ndjson(rec(i, i * 10, 10))) as SavedRecord);
    expect(summarizeRecords('async', stairs).peakInFlight).toBe(1);
  });
});

describe('reportCommand', () => {
  const h = useServer();

  it('reports records of a real three-mode run, split over shards: summaries, comparison, and an HTML bar per record', async () => {
    const list = [...urls(h.server.url, '/delay/40', 8), `${h.server.url}/status/500`];
    const r = await run(['compare', '--modes', 'inline,threads,async', '-c', '4', '-f', 'ndjson', ...list]);
    expect(r.code).toBe(1);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(27);
    const one = file('shard-1.ndjson', lines.slice(0, 14));
    const two = file('shard-2.ndjson', ['not json', ...lines.slice(13)]);
    const html = join(dir, 'report.html');
    const t = terminal();
    const code = getExitCode(await reportCommand([one, two], { html }, t.term, new PassThrough()));
    expect(t.err()).toContain(`${two}:1: not JSON`);
    expect(t.err()).toContain('1 duplicate record (same index and URL) in');
    expect(t.err()).toContain(`wrote the report to ${html}`);
    // A skipped line fails the report as a bad input line fails a fetch.
    expect(code).toBe(EXIT.FAILED);
    for (const mode of ['inline', 'threads', 'async']) expect(t.out()).toMatch(new RegExp(`^${mode}: 9 URLs in `, 'm'));
    expect(t.out()).toContain('Comparison');
    const page = readFileSync(html, 'utf8');
    for (const mode of ['inline', 'threads', 'async']) {
      const mine = lines.map((l) => JSON.parse(l)).filter((x) => x.mode === mode);
      const t0 = Math.min(...mine.map((x) => Date.parse(x.start)));
      const lane = page.slice(page.indexOf(`<g class="lane" data-mode="${mode}">`));
      // up to the next lane, or the chart's end: a lane holds groups of its own (its axis, its failure band)
      const next = lane.indexOf('<g class="lane"', 1);
      const bars = [
        ...lane.slice(0, next < 0 ? lane.indexOf('</svg>') : next).matchAll(/data-index="(\d+)" data-t0="([\d.]+)" data-t1="([\d.]+)"/g),
      ];
      expect(bars.map((b) => [Number(b[1]), Number(b[2]), Number(b[3])]).sort((a, b) => a[0]! - b[0]!)).toEqual(
        mine.sort((a, b) => a.index - b.index).map((x) => [x.index, Date.parse(x.start) - t0, Date.parse(x.end) - t0]),
      );
    }
  });

  it('says what is wrong with the arguments in one line, exit 2', async () => {
    const t = terminal();
    expect(getExitCode(await reportCommand([join(dir, 'missing.ndjson')], { html: null }, t.term, new PassThrough()))).toBe(EXIT.USAGE);
    expect(t.err()).toBe(`fetchall: ${join(dir, 'missing.ndjson')}: cannot read: no such file or directory (ENOENT)\n`);
    const empty = terminal();
    const none = await reportCommand([file('empty.ndjson', ['# nothing'])], { html: null }, empty.term, new PassThrough());
    expect(getExitCode(none)).toBe(EXIT.USAGE);
    expect(empty.err()).toMatch(/empty\.ndjson:1: not JSON\nfetchall: nothing to report: no records in the input\n$/);
  });

  it('exits 74 with one line when the HTML cannot be written', async () => {
    const t = terminal();
    const outcome = await reportCommand(
      [file('ok.ndjson', [ndjson(rec(0, 0, 5))])],
      { html: join(dir, 'no', 'such', 'dir.html') },
      t.term,
      new PassThrough(),
    );
    expect(getExitCode(outcome)).toBe(EXIT.OUTPUT);
    expect(t.err()).toMatch(/^fetchall: cannot write the report '.*dir\.html': no such file or directory \(ENOENT\)$/m);
  });
});
