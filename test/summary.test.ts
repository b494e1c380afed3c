// The text renderers by value on fixed input: the summary (every figure), the live lines, the
// progress line, the waterfall and in-flight chart, the compare table and verdict (σ included),
// the formatters and the clock's conversions.

import { describe, expect, it } from 'vitest';
import { clampTimer, clockTime, iso, MAX_TIMER_MS, now, sleep } from '../src/core/clock.js';
import type { RunEvent, UrlRecord } from '../src/core/types.js';
import type { RunSummary, Span } from '../src/measure/stats.js';
import { compareTable, METRICS, meanSd, verdicts } from '../src/render/compare.js';
import { bytes, clipEnd, clipStart, duration, fixed, printable } from '../src/render/format.js';
import { eventLine } from '../src/render/lines.js';
import { type Paint, plain } from '../src/render/paint.js';
import { CLEAR_LINE, progressLine } from '../src/render/progress.js';
import { csv, ndjson, tsv, tsvHeader } from '../src/render/records.js';
import { cpuText, memoryText, summaryText } from '../src/render/summary.js';
import { inFlightChart, timeline, waterfall } from '../src/render/timeline.js';

const T0 = Date.UTC(2026, 10, 25, 12, 0, 0);

/** A paint that tags each colour, so a test sees what is coloured and how. */
const tags: Paint = {
  enabled: true,
  dim: (s) => `<dim>${s}</dim>`,
  bold: (s) => `<b>${s}</b>`,
  green: (s) => `<g>${s}</g>`,
  red: (s) => `<r>${s}</r>`,
  yellow: (s) => `<y>${s}</y>`,
  cyan: (s) => `<c>${s}</c>`,
};

/** A fixed summary: every figure distinct, so a figure shown in the wrong place is caught. */
function summary(extra: Partial<RunSummary> = {}): RunSummary {
  return {
    mode: 'threads',
    startedAt: T0,
    wallMs: 1234,
    startupMs: 812,
    total: 12,
    ok: 9,
    failed: 3,
    badInput: 2,
    bytes: 123_456,
    reqPerSec: 9.72,
    latency: { min: 0.5, p50: 101.4, p95: 950, max: 1500 },
    achievedConcurrency: 3.456,
    peakInFlight: 4,
    loopStallMs: 12.3,
    cpu: { selfMs: 250, helpersMs: 1750, totalMs: 2000 },
    memory: { selfPeakBytes: 61_234_567, helpersPeakBytes: 220_000_000 },
    threads: 5,
    helpers: 4,
    retries: 2,
    interrupted: null,
    notStarted: null,
    spans: [],
    spansDropped: 0,
    inFlight: { origin: T0, sliceMs: 5, values: [] },
    ...extra,
  };
}

describe('summaryText', () => {
  it('shows every figure of the run, by value', () => {
    expect(summaryText(summary(), plain).split('\n')).toEqual([
      'threads: 12 URLs in 1.23 s  (start-up 812 ms, not included)',
      '  9 ok   3 failed (2 bad input lines)   123 kB   9.7 req/s   2 retries',
      '  latency      min 0.5 ms   p50 101 ms   p95 950 ms   max 1.50 s   (per URL, retry waits included)',
      '  concurrency  achieved 3.46   peak in flight 4',
      '  loop stall   12 ms   (longest time the event loop could not run)',
      '  cpu          2.00 s (self 250 ms + pool 1.75 s)',
      '  memory       61 MB + pool 220 MB peak RSS',
      '  threads      5 (main, relay, 3 workers)   processes 5 (main, 4 in the pool)',
    ]);
  });

  it('uses the singular for one URL, one retry, one bad line; leaves out what is zero', () => {
    const s = summary({
      mode: 'async',
      total: 1,
      ok: 0,
      failed: 1,
      badInput: 1,
      retries: 1,
      startupMs: 0,
      threads: 1,
      helpers: 0,
      cpu: { selfMs: 40, helpersMs: 0, totalMs: 40 },
      memory: { selfPeakBytes: 999, helpersPeakBytes: 0 },
    });
    expect(summaryText(s, plain).split('\n')).toEqual([
      'async: 1 URL in 1.23 s',
      '  0 ok   1 failed (1 bad input line)   123 kB   9.7 req/s   1 retry',
      '  latency      min 0.5 ms   p50 101 ms   p95 950 ms   max 1.50 s   (per URL, retry waits included)',
      '  concurrency  achieved 3.46   peak in flight 4',
      '  loop stall   12 ms   (longest time the event loop could not run)',
      '  cpu          40 ms',
      '  memory       999 B peak RSS',
      '  threads      1   processes 1',
    ]);
  });

  it('has no latency line when nothing was requested, and no retry notes without retries', () => {
    const s = summary({ total: 0, ok: 0, failed: 0, badInput: 0, retries: 0, latency: null, bytes: 0, reqPerSec: 0 });
    const lines = summaryText(s, plain).split('\n');
    expect(lines[0]).toBe('threads: 0 URLs in 1.23 s  (start-up 812 ms, not included)');
    expect(lines[1]).toBe('  0 ok   0 failed   0 B   0.0 req/s');
    expect(lines[2]).toBe('  concurrency  achieved 3.46   peak in flight 4');
    expect(lines).toHaveLength(7);
  });

  it('keeps the latency line without the retry note when there were no retries', () => {
    expect(summaryText(summary({ retries: 0 }), plain).split('\n')[2]).toBe(
      '  latency      min 0.5 ms   p50 101 ms   p95 950 ms   max 1.50 s',
    );
  });

  it.each([
    [null, '  interrupted by SIGINT: partial results'],
    [{ count: 4, more: false }, '  interrupted by SIGINT: partial results, 4 not started'],
    [{ count: 1, more: true }, '  interrupted by SIGINT: partial results, 1+ not started'],
    [{ count: 0, more: true }, '  interrupted by SIGINT: partial results, input not read to the end'],
    [{ count: 0, more: false }, '  interrupted by SIGINT: partial results'],
  ])('after a stop with %j not started, says so on the first line', (notStarted, tail) => {
    const s = summary({ interrupted: 'SIGINT', notStarted, startupMs: 0 });
    expect(summaryText(s, plain).split('\n')[0]).toBe(`threads: 12 URLs in 1.23 s${tail}`);
  });

  it('paints the mode and wall bold, ok green, failures red, notes dim and the stop yellow', () => {
    const s = summary({ interrupted: 'SIGTERM' });
    const [first, second] = summaryText(s, tags).split('\n');
    expect(first).toBe(
      '<b>threads</b>: 12 URLs in <b>1.23 s</b>  <dim>(start-up 812 ms, not included)</dim>  <y>interrupted by SIGTERM: partial results</y>',
    );
    expect(second).toBe('  <g>9 ok</g>   <r>3 failed</r> (2 bad input lines)   123 kB   9.7 req/s   2 retries');
    expect(summaryText(summary({ failed: 0 }), tags).split('\n')[1]).toContain('</g>   0 failed');
  });

  it('memory and cpu: the pool processes only when there are some', () => {
    expect(memoryText(summary())).toBe('61 MB + pool 220 MB');
    expect(memoryText(summary({ memory: { selfPeakBytes: 1_500_000_000, helpersPeakBytes: 0 } }))).toBe('1.5 GB');
    expect(cpuText(summary())).toBe('2.00 s (self 250 ms + pool 1.75 s)');
    // helpers gone by the end, their CPU still counted
    expect(cpuText(summary({ helpers: 0, cpu: { selfMs: 10, helpersMs: 5, totalMs: 15 } }))).toBe('15 ms (self 10 ms + pool 5 ms)');
    expect(cpuText(summary({ helpers: 2, cpu: { selfMs: 10, helpersMs: 0, totalMs: 10 } }))).toBe('10 ms (self 10 ms + pool 0.0 ms)');
    expect(cpuText(summary({ helpers: 0, cpu: { selfMs: 10, helpersMs: 0, totalMs: 10 } }))).toBe('10 ms');
  });
});

describe('eventLine', () => {
  const at = T0 + 250;
  const head = `${clockTime(at)}  +0.250s`;
  const record = (r: Partial<UrlRecord>): UrlRecord => ({
    index: 3,
    url: 'http://h/a',
    mode: 'threads',
    ok: true,
    status: 200,
    bytes: 1500,
    start: T0,
    end: at,
    ms: 501.4,
    attempts: 1,
    worker: 2,
    error: null,
    file: null,
    finalUrl: 'http://h/a',
    redirects: 0,
    ttfbMs: 100,
    contentType: null,
    ...r,
  });
  const line = (e: RunEvent, paint: Paint = plain) => eventLine(e, T0, paint);

  it('a start, and a retry with its attempt', () => {
    expect(line({ kind: 'start', index: 3, url: 'http://h/a', t: at, worker: 2, attempt: 1 })).toBe(
      `${head}  start  #3    thread 2  http://h/a`,
    );
    expect(line({ kind: 'start', index: 12345, url: 'http://h/a', t: at, worker: null, attempt: 3 })).toBe(
      `${head}  retry  #12345  attempt 3  http://h/a`,
    );
  });

  it('a done line: status, size, time, attempts when more than one', () => {
    expect(line({ kind: 'done', record: record({}) })).toBe(`${head}  done   #3    thread 2  200  1.5 kB  501 ms  http://h/a`);
    expect(line({ kind: 'done', record: record({ attempts: 2, worker: null }) })).toBe(
      `${head}  done   #3    200  1.5 kB  501 ms  2 attempts  http://h/a`,
    );
  });

  it('a fail line: the status text for HTTP errors, else code and message; no time for a bad line', () => {
    const http = record({ ok: false, status: 404, error: { code: 'HTTP_STATUS', message: '404 Not Found' }, worker: null });
    expect(line({ kind: 'fail', record: http })).toBe(`${head}  fail   #3    404 Not Found  501 ms  http://h/a`);
    const timeout = record({ ok: false, status: null, attempts: 3, error: { code: 'TIMEOUT', message: 'timed out after 1 s' } });
    expect(line({ kind: 'fail', record: timeout })).toBe(
      `${head}  fail   #3    thread 2  TIMEOUT  timed out after 1 s  501 ms  3 attempts  http://h/a`,
    );
    const bad = record({
      ok: false,
      status: null,
      attempts: 0,
      worker: null,
      url: 'junk',
      error: { code: 'BAD_INPUT', message: 'x:1: not a URL' },
    });
    expect(line({ kind: 'fail', record: bad })).toBe(`${head}  fail   #3    BAD_INPUT  x:1: not a URL  junk`);
    expect(line({ kind: 'fail', record: record({ ok: false, error: null }) })).toBe(
      `${head}  fail   #3    thread 2  FAILED    501 ms  http://h/a`,
    );
  });

  it('escapes control characters in a URL', () => {
    expect(line({ kind: 'start', index: 0, url: 'http://h/\u001b[31m', t: at, worker: null, attempt: 1 })).toBe(
      `${head}  start  #0    http://h/\\x1b[31m`,
    );
  });

  it('paints the time dim, start cyan, retry yellow, done green, fail red', () => {
    const h = `<dim>${clockTime(at)}</dim>  <dim>+0.250s</dim>`;
    expect(line({ kind: 'start', index: 3, url: 'u', t: at, worker: 2, attempt: 1 }, tags)).toBe(
      `${h}  <c>start</c>  #3    <dim>thread 2</dim>  u`,
    );
    expect(line({ kind: 'start', index: 3, url: 'u', t: at, worker: null, attempt: 2 }, tags)).toBe(
      `${h}  <y>retry</y>  #3    <dim>attempt 2</dim>  u`,
    );
    expect(line({ kind: 'done', record: record({ url: 'u', worker: null, attempts: 2 }) }, tags)).toBe(
      `${h}  <g>done </g>  #3    <g>200</g>  1.5 kB  501 ms  <dim>2 attempts</dim>  u`,
    );
    const fail = record({ url: 'u', ok: false, worker: null, error: { code: 'TIMEOUT', message: 'm' } });
    expect(line({ kind: 'fail', record: fail }, tags)).toBe(`${h}  <r>fail </r>  #3    <r>TIMEOUT  m</r>  501 ms  u`);
  });
});

describe('progressLine', () => {
  it('shows done of total, failed, in flight, rate, the ETA and elapsed time', () => {
    // 7 left at 2.5 req/s: 2.8 s, shown as whole seconds
    expect(progressLine({ done: 5, total: 12, failed: 0, inFlight: 3, elapsedMs: 2000 }, 200)).toBe(
      '5/12 done · 0 failed · 3 in flight · 2.5 req/s · ETA 0:03 · 0:02 elapsed',
    );
    expect(progressLine({ done: 5, total: null, failed: 2, inFlight: 0, elapsedMs: 500 }, 200)).toBe(
      '5 done · 2 failed · 0 in flight · 10.0 req/s · 0:01 elapsed',
    );
    // nothing done yet, or no time passed: a rate of 0 and no ETA, never a division by zero
    expect(progressLine({ done: 0, total: 0, failed: 0, inFlight: 0, elapsedMs: 0 }, 200)).toBe(
      '0/0 done · 0 failed · 0 in flight · 0.0 req/s · 0:00 elapsed',
    );
    expect(progressLine({ done: 0, total: 10, failed: 0, inFlight: 4, elapsedMs: 3000 }, 200)).toBe(
      '0/10 done · 0 failed · 4 in flight · 0.0 req/s · 0:03 elapsed',
    );
    // all done: no ETA
    expect(progressLine({ done: 10, total: 10, failed: 0, inFlight: 0, elapsedMs: 3000 }, 200)).toBe(
      '10/10 done · 0 failed · 0 in flight · 3.3 req/s · 0:03 elapsed',
    );
    expect(CLEAR_LINE).toBe('\r\u001b[K');
  });
});

describe('waterfall and in-flight chart', () => {
  const span = (index: number, path: string, start: number, end: number, extra: Partial<Span> = {}): Span => ({
    index,
    url: `http://h${path}`,
    start: T0 + start,
    end: T0 + end,
    ok: true,
    status: 200,
    code: null,
    worker: null,
    ...extra,
  });

  it('draws each bar on a shared axis, by value', () => {
    const s = summary({
      wallMs: 1000,
      spans: [span(1, '/b', 250, 1000, { ok: false, status: null, code: 'TIMEOUT' }), span(0, '/a', 0, 500)],
    });
    expect(waterfall(s, { width: 60, maxBars: 40, paint: plain }).split('\n')).toEqual([
      `#0 ${'/a'.padEnd(18)} |${'='.repeat(11)}${' '.repeat(10)}| 200 500 ms`,
      `#1 ${'/b'.padEnd(18)} |${' '.repeat(5)}${'x'.repeat(16)}| TIMEOUT 750 ms`,
      `${' '.repeat(23)}0      500 ms  1.00 s`,
    ]);
  });

  it('gives way on a narrow terminal: the label first, then the tail, keeping 10 columns of bar', () => {
    const s = summary({ wallMs: 1000, spans: [span(0, '/a', 0, 500), span(1, '/b', 500, 1000)] });
    // 30 columns: the label shrinks from 9 to 3
    expect(waterfall(s, { width: 30, maxBars: 40, paint: plain }).split('\n')).toEqual([
      `#0 /a  |=====     | 200 500 ms`,
      `#1 /b  |     =====| 200 500 ms`,
      `${' '.repeat(8)}0   1.00 s`,
    ]);
    // 24 columns: no label at all, and the tail cut to whole words
    expect(waterfall(s, { width: 24, maxBars: 40, paint: plain }).split('\n')).toEqual([
      '#0  |=====     | 200    ',
      '#1  |     =====| 200    ',
      `${' '.repeat(5)}0   1.00 s`,
    ]);
    // 10 columns: a sliver of bar, an axis with only its 0
    expect(waterfall(s, { width: 10, maxBars: 40, paint: plain }).split('\n')).toEqual(['#0  |==  |', '#1  |  ==|', '     0']);
  });

  it('gives a request of no time one column, and one that starts at the end the last column', () => {
    const s = summary({ wallMs: 1000, spans: [span(0, '/a', 0, 0), span(1, '/b', 1000, 1000)] });
    const rows = waterfall(s, { width: 40, maxBars: 40, paint: plain }).split('\n');
    const bar = (row: string) => row.slice(row.indexOf('|') + 1, row.lastIndexOf('|'));
    expect(bar(rows[0]!)).toBe(`=${' '.repeat(bar(rows[0]!).length - 1)}`);
    expect(bar(rows[1]!)).toBe(`${' '.repeat(bar(rows[1]!).length - 1)}=`);
  });

  it('puts the midpoint on the axis only when it fits clear of both ends', () => {
    const s = (wallMs: number) => summary({ wallMs, spans: [span(0, '/a', 0, wallMs)] });
    const axis = (width: number, wallMs = 1000) => waterfall(s(wallMs), { width, maxBars: 40, paint: plain }).split('\n')[1]!.trim();
    // 19 columns of bar: room for '500 ms' between the ends; 18: not
    expect(axis(60)).toBe('0        500 ms    1.00 s');
    expect(axis(51)).toBe('0     500 ms 1.00 s');
    expect(axis(50)).toBe('0           1.00 s');
    expect(axis(22)).toBe('0   1.00 s');
    // 14 columns: 8 of bar, room for both ends with one space between
    expect(axis(14)).toBe('0 1.00 s');
  });

  it('paints a good bar in full blocks', () => {
    const s = summary({ wallMs: 100, spans: [span(0, '/x', 0, 100)] });
    const [row] = waterfall(s, { width: 40, maxBars: 40, paint: tags }).split('\n');
    expect(row).toMatch(/^<dim>#0<\/dim> \/x +\|<g>█+<\/g>\| 200 100 ms$/);
  });

  it('tags an HTTP failure with its status and paints bars', () => {
    const s = summary({ wallMs: 100, spans: [span(0, '/x', 0, 100, { ok: false, status: 404, code: 'HTTP_STATUS' })] });
    const [row] = waterfall(s, { width: 40, maxBars: 40, paint: tags }).split('\n');
    expect(row).toMatch(/^<dim>#0<\/dim> \/x +\|<r>█+<\/r>\|<r> 404 100 ms<\/r>$/);
  });

  it('cuts the tail to whole words when it does not fit, and a first word too long by characters', () => {
    const tail = (code: string, width: number) => {
      const s = summary({ wallMs: 100, spans: [span(0, '/x', 0, 100, { ok: false, status: null, code })] });
      const [row] = waterfall(s, { width, maxBars: 40, paint: plain }).split('\n');
      expect(row).toHaveLength(width);
      return row!.slice(row!.lastIndexOf('|') + 1);
    };
    // ' ERROR_CODE_OF_20_CH 100 ms' is 27 wide, the tail 24: the time goes, the code stays whole
    expect(tail('ERROR_CODE_OF_20_CH', 80)).toBe(' ERROR_CODE_OF_20_CH'.padEnd(24));
    // a code wider than the tail is cut, not dropped
    expect(tail('A_VERY_LONG_ERROR_CODE_NAME', 80)).toBe(' A_VERY_LONG_ERROR_CODE_');
  });

  it('charts requests in flight per time slice when the list is longer than a screen', () => {
    const s = summary({
      wallMs: 600,
      spans: [span(0, '/a', 0, 600), span(1, '/b', 0, 300)],
      inFlight: { origin: T0, sliceMs: 100, values: [2, 2, 2, 2, 0, 0] },
    });
    const rows = ['     2 |########    ', ...Array.from({ length: 7 }, () => '       |########    ')];
    expect(timeline(s, { width: 20, maxBars: 1, paint: plain }).split('\n')).toEqual([
      'requests in flight …',
      ...rows,
      '     0 +------------',
      `${' '.repeat(8)}0     600 ms`,
    ]);
    expect(inFlightChart(s, { width: 20, maxBars: 1, paint: plain }, 2).split('\n').slice(1, 3)).toEqual([
      '     2 |########    ',
      '       |########    ',
    ]);
  });

  it('averages slices onto columns by their overlap', () => {
    const s = summary({ wallMs: 300, spans: [span(0, '/a', 0, 300)], inFlight: { origin: T0, sliceMs: 100, values: [0, 3, 0] } });
    // 18 columns wide: 10 chart columns over 3 slices; column 3 is ⅓ slice 0 and ⅔ slice 1, so 2
    expect(inFlightChart(s, { width: 18, maxBars: 1, paint: plain }, 3).split('\n').slice(1, 4)).toEqual([
      '     3 |    ##    ',
      '       |   ####   ',
      '       |   ####   ',
    ]);
  });

  it('draws every eighth of a cell in colour, and a half cell as # without', () => {
    const values = [0, 1, 2, 3, 4, 5, 6, 7, 8, 8].map((k) => k / 8);
    const s = summary({ wallMs: 100, spans: [span(0, '/a', 0, 100)], inFlight: { origin: T0, sliceMs: 10, values } });
    expect(inFlightChart(s, { width: 18, maxBars: 1, paint: tags }, 1).split('\n')[1]).toBe('     1 |<c> ▁▂▃▄▅▆▇██</c>');
    expect(inFlightChart(s, { width: 18, maxBars: 1, paint: plain }, 1).split('\n')[1]).toBe('     1 |    ######');
    const half = summary({ wallMs: 10, spans: [span(0, '/a', 0, 10)], inFlight: { origin: T0, sliceMs: 10, values: [1.5] } });
    expect(inFlightChart(half, { width: 18, maxBars: 1, paint: plain }, 2).split('\n')[1]).toBe(`     2 |${'#'.repeat(10)}`);
  });

  it('charts an empty series as nothing in flight', () => {
    const s = summary({ wallMs: 0, spans: [], spansDropped: 3, inFlight: { origin: T0, sliceMs: 5, values: [] } });
    expect(inFlightChart(s, { width: 18, maxBars: 1, paint: plain }, 2).split('\n').slice(1, 4)).toEqual([
      `     1 |${' '.repeat(10)}`,
      `       |${' '.repeat(10)}`,
      `     0 +${'-'.repeat(10)}`,
    ]);
  });

  it('chooses the waterfall up to maxBars URLs, dropped spans counted', () => {
    const spans = [span(0, '/a', 0, 10), span(1, '/b', 0, 10)];
    const s = (dropped: number) =>
      summary({ wallMs: 10, spans, spansDropped: dropped, inFlight: { origin: T0, sliceMs: 5, values: [2, 2] } });
    expect(timeline(s(0), { width: 60, maxBars: 2, paint: plain })).toMatch(/^#0 /);
    expect(timeline(s(1), { width: 60, maxBars: 2, paint: plain })).toMatch(/^requests in flight/);
    expect(timeline(s(0), { width: 60, maxBars: 1, paint: plain })).toMatch(/^requests in flight/);
  });

  it('draws half a slice as the half-height block in colour, and nothing for an empty run', () => {
    const s = summary({ wallMs: 100, spans: [span(0, '/a', 0, 100)], inFlight: { origin: T0, sliceMs: 10, values: [1, 2] } });
    const chart = inFlightChart(s, { width: 18, maxBars: 1, paint: plain }, 2).split('\n');
    // top row: only the second half reaches 2; bottom row: both halves reach 1
    expect(chart.slice(1, 3)).toEqual(['     2 |     #####', '       |##########']);
    const colour = inFlightChart(s, { width: 18, maxBars: 1, paint: tags }, 1).split('\n');
    expect(colour[1]).toBe('     2 |<c>▄▄▄▄▄█████</c>');
    expect(timeline(summary({ spans: [], spansDropped: 0 }), { width: 80, maxBars: 10, paint: plain })).toBe('');
  });
});

describe('compare table and verdict', () => {
  const a = summary({
    mode: 'async',
    wallMs: 1000,
    reqPerSec: 10,
    latency: { min: 50, p50: 100, p95: 200, max: 300 },
    achievedConcurrency: 9.78,
    peakInFlight: 10,
    loopStallMs: 2,
    cpu: { selfMs: 150, helpersMs: 0, totalMs: 150 },
    memory: { selfPeakBytes: 60e6, helpersPeakBytes: 0 },
    threads: 1,
    helpers: 0,
    startupMs: 0,
    shutdownMs: 5,
    failed: 0,
  });
  const t = summary({
    mode: 'processes',
    wallMs: 2500,
    reqPerSec: 4,
    latency: { min: 50, p50: 250, p95: 900, max: 1000 },
    achievedConcurrency: 3.5,
    peakInFlight: 4,
    loopStallMs: 0.4,
    cpu: { selfMs: 200, helpersMs: 3000, totalMs: 3200 },
    memory: { selfPeakBytes: 80e6, helpersPeakBytes: 220e6 },
    threads: 5,
    helpers: 4,
    startupMs: 1500,
    shutdownMs: 300,
    failed: 1,
  });

  it('tabulates every figure of every mode, by value', () => {
    const row = (label: string, x: string, y: string) => `${label.padEnd(26)}   ${x.padStart(6)}   ${y.padStart(9)}`;
    expect(
      compareTable(
        [
          { mode: 'async', runs: [a] },
          { mode: 'processes', runs: [t] },
        ],
        plain,
      ).split('\n'),
    ).toEqual([
      `${' '.repeat(26)}    async   processes`,
      row('wall (fetch)', '1.00 s', '2.50 s'),
      row('req/s', '10.0', '4.0'),
      row('p50', '100 ms', '250 ms'),
      row('p95', '200 ms', '900 ms'),
      row('achieved conc.', '9.78', '3.50'),
      row('peak in flight', '10', '4'),
      row('loop stall', '2 ms', '0.4 ms'),
      row('CPU (incl. pool processes)', '150 ms', '3.20 s'),
      row('memory (self)', '60 MB', '80 MB'),
      row('memory (pool processes)', '0 B', '220 MB'),
      row('threads', '1', '5'),
      row('pool processes', '0', '4'),
      row('start-up', '0.0 ms', '1.50 s'),
      row('shut-down', '5 ms', '300 ms'),
      // start-up + fetch + shut-down
      row('end to end', '1.00 s', '4.30 s'),
      row('failed', '0', '1'),
    ]);
    expect(METRICS.map((m) => m.label)).toHaveLength(16);
  });

  it('shows mean ± σ over runs, – for a figure a mode lacks, and the header bold', () => {
    const runs = [900, 1100].map((wallMs) => ({ ...a, wallMs }));
    const table = compareTable(
      [
        { mode: 'async', runs },
        { mode: 'x', runs: [{ ...a, latency: null }] },
      ],
      tags,
    ).split('\n');
    expect(table[0]).toBe(`<b>${' '.repeat(26)}             async        x</b>`);
    expect(table[1]).toBe(`${'wall (fetch)'.padEnd(26)}   1.00 s ± 141 ms   1.00 s`);
    expect(table[3]).toBe(`${'p50'.padEnd(26)}            100 ms        –`);
    // equal runs: no ± 0
    expect(compareTable([{ mode: 'async', runs: [a, a] }], plain).split('\n')[1]).toBe(`${'wall (fetch)'.padEnd(26)}   1.00 s`);
  });

  it('names the fastest and its ratio to each other mode, with σ by error propagation', () => {
    const walls = (mode: string, ws: number[]) => ({ mode, runs: ws.map((wallMs) => ({ ...a, mode, wallMs })) });
    const v = verdicts([
      walls('threads', [3000, 3300, 2700]),
      walls('inline', [10_000, 10_000, 10_000]),
      walls('async', [1000, 1100, 900]),
    ]);
    // end to end as well: the same walls, plus a's start-up 0 and shut-down 5 ms
    expect(v.map((x) => x.text)).toEqual([
      'fetch: async ran 3.00 ± 0.42 times faster than threads',
      'fetch: async ran 10.00 ± 1.00 times faster than inline',
      'end to end (start-up included): async ran 2.99 ± 0.42 times faster than threads',
      'end to end (start-up included): async ran 9.96 ± 0.99 times faster than inline',
    ]);
    expect(v[0]).toMatchObject({ basis: 'fetch', fastest: 'async', other: 'threads', ratio: 3 });
    expect(v[0]!.sigma).toBeCloseTo(3 * Math.sqrt(0.1 ** 2 + 0.1 ** 2), 10);
    expect(v[1]!.sigma).toBeCloseTo(10 * 0.1, 10);
  });

  it('gives σ 0 and no ± with one run each; within 5 % reads "about as fast as"; one mode has no verdict', () => {
    const one = (mode: string, wallMs: number) => ({ mode, runs: [{ ...a, mode, wallMs }] });
    expect(verdicts([one('threads', 2000), one('async', 1000)])).toEqual([
      {
        basis: 'fetch',
        fastest: 'async',
        other: 'threads',
        ratio: 2,
        sigma: 0,
        within_noise: false,
        text: 'fetch: async ran 2.00 times faster than threads',
      },
      {
        basis: 'end_to_end',
        fastest: 'async',
        other: 'threads',
        ratio: 2005 / 1005,
        sigma: 0,
        within_noise: false,
        text: 'end to end (start-up included): async ran 2.00 times faster than threads',
      },
    ]);
    expect(verdicts([one('async', 1000), one('threads', 1004)])[0]!.text).toBe(
      'fetch: async ran about as fast as threads (within noise: 1.00 times, under the 5 % one run can vary)',
    );
    expect(verdicts([one('async', 1000), one('threads', 1030)])[0]!.text).toBe(
      'fetch: async ran about as fast as threads (within noise: 1.03 times, under the 5 % one run can vary)',
    );
    expect(verdicts([one('async', 1000), one('threads', 1060)])[0]!.text).toBe('fetch: async ran 1.06 times faster than threads');
    // the two bases can disagree: the faster fetch loses on a long start-up
    const started = (mode: string, wallMs: number, startupMs: number) => ({
      mode,
      runs: [{ ...a, mode, wallMs, startupMs, shutdownMs: 0 }],
    });
    expect(verdicts([started('threads', 1000, 2000), started('async', 2000, 0)]).map((x) => x.text)).toEqual([
      'fetch: threads ran 2.00 times faster than async',
      'end to end (start-up included): async ran 1.50 times faster than threads',
    ]);
    expect(verdicts([one('async', 1000)])).toEqual([]);
    expect(verdicts([])).toEqual([]);
    // either mode with two runs is enough for a ±
    expect(
      verdicts([one('async', 1000), { mode: 'threads', runs: [1900, 2100].map((wallMs) => ({ ...a, mode: 'threads', wallMs })) }])[0]!.text,
    ).toBe('fetch: async ran 2.00 ± 0.14 times faster than threads');
    const two = { mode: 'async', runs: [900, 1100].map((wallMs) => ({ ...a, wallMs })) };
    expect(verdicts([two, one('threads', 2000)])[0]!.text).toBe('fetch: async ran 2.00 ± 0.28 times faster than threads');
  });

  it('never divides by a zero mean', () => {
    const v = verdicts([
      { mode: 'async', runs: [{ ...a, wallMs: 0 }] },
      { mode: 'threads', runs: [t] },
    ]);
    // fetch only: a's 0 ms fetch plus its 5 ms shut-down is a measurable time end to end
    expect(v).toHaveLength(2);
    expect(v[0]!.text).toBe('fetch: async took no measurable time; no ratio to threads');
    expect(v[0]!.ratio).toBeNaN();
    expect(v[0]!.sigma).toBeNaN();
  });

  it('meanSd: sample σ, 0 for one value, NaN for none', () => {
    expect(meanSd([2, 4, 4, 4, 5, 5, 7, 9])).toEqual({ mean: 5, sd: Math.sqrt(32 / 7), n: 8 });
    expect(meanSd([5])).toEqual({ mean: 5, sd: 0, n: 1 });
    const none = meanSd([]);
    expect(none.n).toBe(0);
    expect(none.mean).toBeNaN();
    expect(none.sd).toBeNaN();
  });
});

describe('records', () => {
  const rec: UrlRecord = {
    index: 0,
    url: 'http://h/a\\b',
    mode: 'async',
    ok: true,
    status: null,
    bytes: 0,
    start: T0,
    end: T0 + 0.05,
    ms: 0.05,
    attempts: 0,
    worker: null,
    error: null,
    file: '/tmp/x,y',
    finalUrl: null,
    redirects: 0,
    ttfbMs: null,
    contentType: null,
  };

  it('writes empty cells for null fields and escapes a backslash in tsv', () => {
    expect(tsvHeader).toBe(
      'index\turl\tmode\tok\tstatus\tbytes\tstart\tend\tms\tattempts\tworker\terror\tfile\tstart_ms\tend_ms\tfinal_url\tredirects\tttfb_ms\tcontent_type\twork_ms',
    );
    expect(tsv(rec, T0)).toBe(
      '0\thttp://h/a\\\\b\tasync\ttrue\t\t0\t2026-11-25T12:00:00.000Z\t2026-11-25T12:00:00.000Z\t0.1\t0\t\t\t/tmp/x,y\t0\t0.05\t\t0\t\t\t',
    );
    expect(csv(rec, T0)).toBe(
      '0,http://h/a\\b,async,true,,0,2026-11-25T12:00:00.000Z,2026-11-25T12:00:00.000Z,0.1,0,,,"/tmp/x,y",0,0.05,,0,,,',
    );
    expect(tsv({ ...rec, url: 'a\tb\rc\nd' }, T0).split('\t')[1]).toBe('a\\tb\\rc\\nd');
    expect(JSON.parse(ndjson({ ...rec, ms: 1234.56 }, T0)).ms).toBe(1234.6);
  });
});

describe('format', () => {
  it('bytes: SI units, one decimal under 10', () => {
    expect([0, 999, 1000, 1049, 9949, 10_000, 999_499, 1e6, 1.5e9, 2e12, 5e15].map(bytes)).toEqual([
      '0 B',
      '999 B',
      '1.0 kB',
      '1.0 kB',
      '9.9 kB',
      '10 kB',
      '999 kB',
      '1.0 MB',
      '1.5 GB',
      '2.0 TB',
      '5000 TB',
    ]);
  });

  it('duration: ms with a decimal under 1, whole ms, seconds, then minutes', () => {
    expect([0, 0.42, 0.94, 1, 501.4, 999.4, 1000, 9994, 10_000, 59_949, 60_000, 125_000, 3_600_000].map(duration)).toEqual([
      '0.0 ms',
      '0.4 ms',
      '0.9 ms',
      '1 ms',
      '501 ms',
      '999 ms',
      '1.00 s',
      '9.99 s',
      '10.0 s',
      '59.9 s',
      '1 m 00 s',
      '2 m 05 s',
      '60 m 00 s',
    ]);
  });

  it('fixed, clipStart, clipEnd, printable', () => {
    expect([fixed(1.25, 1), fixed(2, 0), fixed(Number.NaN, 2), fixed(Number.POSITIVE_INFINITY, 1)]).toEqual(['1.3', '2', '–', '–']);
    expect([clipStart('abcdef', 6), clipStart('abcdef', 5), clipStart('abcdef', 1), clipStart('abc', 0), clipStart('abc', -1)]).toEqual([
      'abcdef',
      '…cdef',
      '…',
      '',
      '',
    ]);
    expect([clipEnd('abcdef', 6), clipEnd('abcdef', 5), clipEnd('abcdef', 1), clipEnd('abc', 0)]).toEqual(['abcdef', 'abcd…', '…', '']);
    expect(printable('a\u0000b\u001fc\u007fd\u009fe\u00a0f')).toBe('a\\x00b\\x1fc\\x7fd\\x9fe\u00a0f');
    expect(printable('x'.repeat(400))).toBe(`${'x'.repeat(299)}…`);
    expect(printable('x'.repeat(300))).toBe('x'.repeat(300));
    expect(printable('abcdef', 4)).toBe('abc…');
  });
});

describe('the clock', () => {
  it('converts to ISO and local time of day, rounding to the ms', () => {
    expect(iso(T0)).toBe('2026-11-25T12:00:00.000Z');
    expect(iso(T0 + 0.4)).toBe('2026-11-25T12:00:00.000Z');
    expect(iso(T0 + 1.5)).toBe('2026-11-25T12:00:00.002Z');
    const local = new Date(2026, 0, 2, 3, 4, 5, 6).getTime();
    expect(clockTime(local)).toBe('03:04:05.006');
    expect(clockTime(local + 0.6)).toBe('03:04:05.007');
    expect(clockTime(new Date(2026, 0, 2, 23, 59, 59, 999).getTime())).toBe('23:59:59.999');
  });

  it('reads epoch ms, comparable with Date.now()', () => {
    const a = now();
    expect(Math.abs(a - Date.now())).toBeLessThan(1000);
    expect(now()).toBeGreaterThanOrEqual(a);
  });

  it('clamps a timer to what setTimeout honours', () => {
    expect([clampTimer(0), clampTimer(-5), clampTimer(Number.NaN), clampTimer(5), clampTimer(MAX_TIMER_MS)]).toEqual([
      0,
      0,
      0,
      5,
      MAX_TIMER_MS,
    ]);
    expect([clampTimer(MAX_TIMER_MS + 1), clampTimer(Number.POSITIVE_INFINITY)]).toEqual([MAX_TIMER_MS, MAX_TIMER_MS]);
  });

  it('sleeps, and wakes at once on an abort', async () => {
    const t0 = now();
    await sleep(30);
    expect(now() - t0).toBeGreaterThanOrEqual(25);
    const ctl = new AbortController();
    const t1 = now();
    const long = sleep(60_000, ctl.signal);
    setTimeout(() => ctl.abort(), 10);
    await long;
    expect(now() - t1).toBeLessThan(5000);
    const t2 = now();
    await sleep(60_000, ctl.signal);
    expect(now() - t2).toBeLessThan(1000);
  });
});
