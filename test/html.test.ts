// The HTML report's renderer on fixed runs: bars per span and at their times on each mode's own axis,
// the binned form for big runs, every failure marked however many URLs, the size at 100,000 URLs,
// and hostile text from the input shown as text, never markup.

import { describe, expect, it } from 'vitest';
import type { UrlRecord } from '../src/core/types.js';
import type { RunSummary } from '../src/measure/stats.js';
import { htmlReport, laneFrame, type ReportInput, type ReportMode } from '../src/render/html.js';
import { BIN_ABOVE, BIN_ROWS, extentMs } from '../src/render/html-waterfall.js';
import { esc } from '../src/render/svg.js';
import type { SavedRecord } from '../src/report/saved.js';
import { summarizeRecords } from '../src/report/summarize.js';
import { SpanCollector } from '../src/sinks/spans.js';
import { fakeRun } from './helpers/report-runs.js';

const PARAMS: ReportInput['params'] = {
  modes: ['inline', 'threads', 'async'],
  concurrency: 10,
  perHost: null,
  timeoutMs: 30_000,
  retries: 0,
  node: 'v20.18.1',
  machine: 'linux x64',
};

function threeModes(n: number): ReportMode[] {
  return [
    { mode: 'inline', runs: [fakeRun({ mode: 'inline', n, conc: 1, ms: 100, failEvery: 7 })], serverPeak: 1 },
    { mode: 'threads', runs: [fakeRun({ mode: 'threads', n, conc: 10, ms: 100 })], serverPeak: 10 },
    { mode: 'async', runs: [fakeRun({ mode: 'async', n, conc: 10, ms: 100 })], serverPeak: 10 },
  ];
}

const report = (modes: ReportMode[], extra: Partial<ReportInput> = {}) => htmlReport({ title: 'test', params: PARAMS, modes, ...extra });

/** The waterfall's lanes: each lane's markup by mode. */
function lanes(html: string): Map<string, string> {
  const svg = html.slice(html.indexOf('<svg class="waterfall"'), html.indexOf('</svg>', html.indexOf('<svg class="waterfall"')));
  const out = new Map<string, string>();
  for (const part of svg.split('<g class="lane" data-mode="').slice(1)) out.set(part.slice(0, part.indexOf('"')), part);
  return out;
}

/** The failure band's marks: x and width in px. */
const failMarks = (lane: string) =>
  [...lane.matchAll(/<rect class="fail-mark" x="([\d.]+)" y="[\d.]+" width="([\d.]+)" height="8"\/>/g)].map((m) => ({
    x: Number(m[1]),
    w: Number(m[2]),
  }));

const bars = (lane: string) => [
  ...lane.matchAll(/<rect class="bar (\w+)" data-index="(\d+)" data-t0="([\d.]+)" data-t1="([\d.]+)" x="([\d.]+)"[^>]*width="([\d.]+)"/g),
];

describe('htmlReport', () => {
  it('draws one bar per span in each mode, coloured by outcome', () => {
    const modes = threeModes(30);
    const got = lanes(report(modes));
    expect([...got.keys()]).toEqual(['inline', 'threads', 'async']);
    for (const m of modes) {
      const b = bars(got.get(m.mode)!);
      expect(b).toHaveLength(m.runs[0]!.spans.length);
      const failed = m.runs[0]!.spans.filter((s) => !s.ok).map((s) => String(s.index));
      expect(b.filter((x) => x[1] !== 'ok').map((x) => x[2])).toEqual(failed);
    }
  });

  it('puts each bar at its span’s times, from the mode’s own start, on the mode’s own axis', () => {
    const modes = threeModes(25);
    const html = report(modes);
    for (const m of modes) {
      const s = m.runs[0]!;
      const f = laneFrame({ mode: m.mode, run: s });
      // each axis ends where its own mode's last request did
      expect(f.totalMs).toBeCloseTo(extentMs(s), 6);
      for (const [, , index, t0, t1, x, width] of bars(lanes(html).get(m.mode)!)) {
        const span = s.spans.find((x) => x.index === Number(index))!;
        expect(Number(t0)).toBeCloseTo(span.start - s.startedAt, 1);
        expect(Number(t1)).toBeCloseTo(span.end - s.startedAt, 1);
        expect(Number(x)).toBeCloseTo(f.left + ((span.start - s.startedAt) / f.totalMs) * f.width, 1);
        expect(Number(width)).toBeCloseTo(Math.max(2, ((span.end - span.start) / f.totalMs) * f.width), 1);
      }
    }
  });

  it('gives each mode its own time axis, labelled so, when the walls differ 10 ×: every mode’s bars span its chart', () => {
    const modes: ReportMode[] = [
      { mode: 'inline', runs: [fakeRun({ mode: 'inline', n: 30, conc: 1, ms: 100 })] },
      { mode: 'async', runs: [fakeRun({ mode: 'async', n: 30, conc: 10, ms: 100 })] },
    ];
    const [inline, async] = modes.map((m) => m.runs[0]!);
    expect(inline!.wallMs / async!.wallMs).toBeGreaterThan(9);
    const html = report(modes);
    const got = lanes(html);
    for (const m of modes) {
      const f = laneFrame({ mode: m.mode, run: m.runs[0]! });
      const b = bars(got.get(m.mode)!);
      const from = Math.min(...b.map((x) => Number(x[5])));
      const to = Math.max(...b.map((x) => Number(x[5]) + Number(x[6])));
      expect((to - from) / f.width).toBeGreaterThan(0.95);
      // the axis says its range and that it is the mode's own
      expect(got.get(m.mode)).toContain(`<g class="time-axis" data-total-ms="${Math.round(extentMs(m.runs[0]!) * 100) / 100}">`);
      expect(got.get(m.mode)).toMatch(/<text class="scale"[^>]*>own axis, 0–[\d.]+ m?s<\/text>/);
    }
    // the shorter axis says so, in numbers, under the mode's own scale: in the waterfall and the in-flight chart
    const ratio = (extentMs(inline!) / extentMs(async!)).toFixed(1);
    expect(got.get('async')).toContain(`<text class="scale-note"`);
    expect(got.get('async')).toContain(`>${ratio} × shorter than inline&#39;s</text>`);
    expect(got.get('inline')).not.toContain('scale-note');
    const chart = html.slice(html.indexOf('<svg class="inflight"'));
    expect(chart.match(/× shorter than inline&#39;s/g)).toHaveLength(1);
    // each in-flight area reaches across its own chart
    const paths = [...chart.matchAll(/<path class="flight m-\w+" d="([^"]+)"/g)];
    expect(paths).toHaveLength(2);
    for (const path of paths) {
      const xs = [...path[1]!.matchAll(/[ML]([\d.]+) /g)].map((x) => Number(x[1]));
      const f = laneFrame({ mode: 'async', run: async! });
      expect((Math.max(...xs) - Math.min(...xs)) / f.width).toBeGreaterThan(0.95);
    }
  });

  it('names the URL, status, bytes, time, attempts and worker in each bar’s title', () => {
    const html = report([{ mode: 'threads', runs: [fakeRun({ mode: 'threads', n: 3, conc: 2, ms: 50 })] }]);
    expect(html).toContain('<title>#1 http://127.0.0.1:8080/delay/50?i=1\nstatus 200 · 1.2 kB · ');
    expect(html).toMatch(/<title>#1 [^<]*· 1 attempt · worker 2\nfrom \+0\.0 ms to \+\d+ ms<\/title>/);
  });

  it(`bins the waterfall above ${BIN_ABOVE} bars, and whenever bars were dropped`, () => {
    const big = fakeRun({ mode: 'async', n: BIN_ABOVE + 1, conc: 10, ms: 50, failEvery: 100 });
    const html = report([{ mode: 'async', runs: [big] }]);
    expect(html).not.toContain('class="bar ');
    const rows = [...html.matchAll(/<g class="bin-row" data-first="(\d+)"><title>URLs #(\d+)–#(\d+) \((\d+)\)/g)];
    const per = Math.ceil(big.spans.length / BIN_ROWS);
    expect(rows).toHaveLength(Math.ceil(big.spans.length / per));
    expect(rows.reduce((a, r) => a + Number(r[4]), 0)).toBe(big.spans.length);
    expect(rows[0]!.slice(2, 4)).toEqual(['0', String(per - 1)]);

    const atCap: RunSummary = { ...fakeRun({ mode: 'async', n: 1000, conc: 10, ms: 50 }), spansDropped: 4000 };
    const capped = report([{ mode: 'async', runs: [atCap] }]);
    expect(capped).not.toContain('class="bar ');
    expect(capped).toContain('binned: the first 1000 of 5000 URLs');
  });

  it('marks every failure above a binned waterfall: 30 in 3,000, each at its time, all counted', () => {
    const run = fakeRun({ mode: 'async', n: 3000, conc: 10, ms: 50, failEvery: 100 });
    const html = report([{ mode: 'async', runs: [run] }]);
    const lane = lanes(html).get('async')!;
    expect(lane).not.toContain('class="bar ');
    expect(lane).toContain('<g class="fail-band" data-failed="30"><title>30 failed URLs of 3000, counted from every record');
    expect(lane).toContain('>30 failed</text>');
    const f = laneFrame({ mode: 'async', run });
    const marks = failMarks(lane);
    expect(marks.length).toBeGreaterThan(0);
    for (const m of marks) expect(m.w).toBeGreaterThanOrEqual(2);
    // every failed URL's span lies under a mark
    const failed = run.spans.filter((x) => !x.ok);
    expect(failed).toHaveLength(30);
    for (const x of failed) {
      const a = f.left + ((x.start - run.startedAt) / f.totalMs) * f.width;
      const b = f.left + ((x.end - run.startedAt) / f.totalMs) * f.width;
      expect(marks.some((m) => m.x <= a + 1 && m.x + m.w >= b - 1)).toBe(true);
    }
    // and no mark where no failure was: the marks cover about the failures' time, not the run's
    const marked = marks.reduce((t, m) => t + m.w, 0);
    const failedPx = failed.reduce((t, x) => t + Math.max(2, ((x.end - x.start) / f.totalMs) * f.width + 1), 0);
    expect(marked).toBeLessThanOrEqual(failedPx + 2);
    // the bins that held a failure are red too, whatever the ok URLs beside it
    expect(lane.match(/<rect class="bin f4"/g)!.length).toBeGreaterThanOrEqual(30);
  });

  it('counts the failure band from every record when the waterfall draws a sample (report)', () => {
    // 3,000 records: the sample keeps every 2nd index, and every failure is at an odd one
    const t0 = 1_700_000_000_000;
    const records: SavedRecord[] = Array.from({ length: 3000 }, (_, i) => {
      const ok = i % 100 !== 51;
      const start = t0 + Math.floor(i / 10) * 50;
      return {
        index: i,
        url: `http://127.0.0.1:1/x?i=${i}`,
        mode: 'async',
        ok,
        status: ok ? 200 : 503,
        bytes: 10,
        start,
        end: start + 50,
        ms: 50,
        attempts: 1,
        worker: null,
        error: ok ? null : { code: 'HTTP_STATUS', message: 'HTTP 503' },
        file: null,
        finalUrl: null,
        redirects: 0,
        ttfbMs: null,
        contentType: null,
        workMs: null,
      };
    });
    const s = summarizeRecords('async', records);
    expect(s.spansEvery).toBe(2);
    expect(s.spans.filter((x) => !x.ok)).toHaveLength(0);
    const lane = lanes(report([{ mode: 'async', runs: [s] }])).get('async')!;
    expect(lane).toContain('<g class="fail-band" data-failed="30">');
    const f = laneFrame({ mode: 'async', run: s });
    const marks = failMarks(lane);
    for (const r of records.filter((x) => !x.ok)) {
      const a = f.left + ((r.start - s.startedAt) / f.totalMs) * f.width;
      const b = f.left + ((r.end - s.startedAt) / f.totalMs) * f.width;
      expect(marks.some((m) => m.x <= a + 1 && m.x + m.w >= b - 1)).toBe(true);
    }
  });

  it('draws no failure band where nothing failed', () => {
    expect(report([{ mode: 'async', runs: [fakeRun({ mode: 'async', n: 3000, conc: 10, ms: 50 })] }])).not.toContain('fail-band');
  });

  it('draws the -c limit and the server’s own peak on the in-flight chart', () => {
    const html = report(threeModes(20));
    const chart = html.slice(html.indexOf('<svg class="inflight"'));
    expect(chart.match(/<line class="limit"/g)).toHaveLength(3);
    expect(chart).toContain('>-c 10</text>');
    expect(chart).toContain('>server&#39;s peak 1</text>');
    expect(chart.match(/<path class="flight m-(inline|threads|async)"/g)).toHaveLength(3);
  });

  it('stays under 2 MB at 100,000 URLs in each of three modes', () => {
    const modes = (['inline', 'threads', 'async'] as const).map((mode) => ({
      mode,
      runs: [fakeRun({ mode, n: 100_000, conc: mode === 'inline' ? 1 : 64, ms: 20, failEvery: 1000 })],
    }));
    const html = report(modes);
    expect(Buffer.byteLength(html)).toBeLessThan(2 * 1024 * 1024);
    expect(html).not.toContain('class="bar ');
    expect(html.match(/<g class="bin-row"/g)).toHaveLength(3 * BIN_ROWS);
  });

  it('shows a hostile URL, mode, title and figures as text, never as markup', () => {
    const hostile = `http://h/"><script>alert(1)</script><img src=x onerror=alert(2)>'\u001b[31m\u0007\u009b`;
    const run = fakeRun({ mode: 'async', n: 2, conc: 1, ms: 10, urls: () => hostile });
    const html = report([{ mode: '<script>alert(3)</script>', runs: [run] }], {
      title: '<script>alert(4)</script>',
      compare: { table: '<b>table</b>', verdicts: ['<script>alert(5)</script>'] },
      notes: ['"><svg onload=alert(6)>'],
      params: { ...PARAMS, machine: '<iframe>', extra: [['<x>', '<y>']] },
    });
    expect(html).not.toMatch(/<script|<img|<iframe|<svg onload|<x>|<b>/i);
    expect(html).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/);
    expect(html).toContain(esc(hostile));
    expect(esc(hostile)).toContain('&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(esc(hostile)).toContain('&#39;\\x1b[31m\\x07\\x9b');
    expect(html).toContain('&lt;script&gt;alert(3)&lt;/script&gt;');
  });

  it('writes a waterfall row label that is no URL (a saved record’s `<script>…`) as text', () => {
    // new URL() would percent-encode < and >; a url that does not parse is labelled as written.
    const script = '<script>alert(1)</script>';
    const run = fakeRun({ mode: 'async', n: 2, conc: 1, ms: 10, urls: (i) => (i === 0 ? script : `http://h/a&b?i=${i}`) });
    const html = report([{ mode: 'async', runs: [run] }]);
    expect(html).not.toMatch(/<script/i);
    const labels = [...html.matchAll(/<text class="row"[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);
    expect(labels).toEqual(['&lt;script&gt;alert(1)&lt;/script&gt;', '/a&amp;b?i=1']);
  });

  it('shows bidi controls (U+202E …) escaped, so a hover text cannot reorder itself', () => {
    expect(esc('http://h/\u202egpj.exe\u2066x\u200f')).toBe('http://h/\\u202egpj.exe\\u2066x\\u200f');
    expect(esc('plain ünïcode')).toBe('plain ünïcode');
  });

  it('is self-contained: nothing loaded, no script, a policy that allows neither', () => {
    const html = report(threeModes(5));
    expect(html).not.toMatch(/<script|<link|src=|href=|url\(|@import/i);
    expect(html).toContain(`content="default-src 'none'; style-src 'unsafe-inline'; img-src data:"`);
  });

  it('draws the median run of several and says which', () => {
    const runs = [120, 100, 140].map((ms) => fakeRun({ mode: 'async', n: 4, conc: 2, ms }));
    const html = report([{ mode: 'async', runs }]);
    expect(html).toContain('run 1 of 3 (median wall)');
  });
});

describe('SpanCollector', () => {
  const record = (index: number, over: Partial<UrlRecord> = {}): UrlRecord => ({
    index,
    url: `http://127.0.0.1:1/x?i=${index}`,
    mode: 'async',
    ok: true,
    status: 200,
    bytes: 10,
    start: 1000 + index,
    end: 1010 + index,
    ms: 10,
    attempts: 1,
    worker: null,
    error: null,
    file: null,
    finalUrl: null,
    redirects: 0,
    ttfbMs: null,
    contentType: null,
    ...over,
  });

  it('keeps every requested URL’s bar, with its facts, and no bar for a bad input line', () => {
    const c = new SpanCollector();
    c.onEvent({ kind: 'start', index: 0, url: 'x', t: 1000, worker: null, attempt: 1 });
    c.onEvent({ kind: 'done', record: record(0, { attempts: 2 }) });
    c.onEvent({ kind: 'fail', record: record(1, { attempts: 0, ok: false, error: { code: 'BAD_INPUT', message: 'f:1: bad' } }) });
    c.onEvent({ kind: 'fail', record: record(2, { ok: false, status: 503, error: { code: 'HTTP_STATUS', message: 'HTTP 503' } }) });
    expect(c.spans()).toEqual([
      {
        index: 0,
        url: 'http://127.0.0.1:1/x?i=0',
        start: 1000,
        end: 1010,
        ok: true,
        status: 200,
        code: null,
        worker: null,
        bytes: 10,
        attempts: 2,
      },
      {
        index: 2,
        url: 'http://127.0.0.1:1/x?i=2',
        start: 1002,
        end: 1012,
        ok: false,
        status: 503,
        code: 'HTTP_STATUS',
        worker: null,
        bytes: 10,
        attempts: 1,
      },
    ]);
  });

  it('gives the report all of a big run, past the live meter’s 1,000, so all of it is binned', () => {
    const c = new SpanCollector();
    const n = BIN_ABOVE * 3;
    for (let i = 0; i < n; i++) c.add(record(i, { ok: i % 10 !== 0 }));
    const capped: RunSummary = { ...fakeRun({ mode: 'async', n: 1000, conc: 10, ms: 10 }), spansDropped: n - 1000 };
    const whole = c.applyTo(capped);
    expect(whole.spansDropped).toBe(0);
    expect(whole.spans).toHaveLength(n);
    expect(whole.spans.filter((x) => !x.ok)).toHaveLength(n / 10);
    const html = report([{ mode: 'async', runs: [{ ...whole, startedAt: 1000, wallMs: n + 10 }] }]);
    const counts = [...html.matchAll(/<title>URLs #\d+–#\d+ \((\d+)\)/g)].reduce((a, m) => a + Number(m[1]), 0);
    expect(counts).toBe(n);
  });
});
