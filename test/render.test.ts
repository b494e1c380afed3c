// Renderers tested by value on canned summaries: fixed times, no colour, exact text.

import { describe, expect, it } from 'vitest';
import type { UrlRecord } from '../src/core/types.js';
import type { RunSummary, Span } from '../src/measure/stats.js';
import { compareTable, meanSd, verdicts } from '../src/render/compare.js';
import { bytes, duration } from '../src/render/format.js';
import { plain } from '../src/render/paint.js';
import { csv, csvHeader, ndjson, tsv } from '../src/render/records.js';
import { timeline, waterfall } from '../src/render/timeline.js';

const T0 = Date.UTC(2026, 10, 25, 12, 0, 0);

/** A fake run whose URLs take exactly their stated time, starting as a pool of `c` would start them. */
function fakeRun(mode: string, latencies: number[], c: number, extra: Partial<RunSummary> = {}): RunSummary {
  const free = Array.from({ length: c }, () => 0);
  const spans: Span[] = latencies.map((ms, index) => {
    const slot = free.indexOf(Math.min(...free));
    const start = free[slot]!;
    free[slot] = start + ms;
    return {
      index,
      url: `http://127.0.0.1:8080/delay/${ms}?i=${index}`,
      start: T0 + start,
      end: T0 + start + ms,
      ok: true,
      status: 200,
      code: null,
      worker: null,
    };
  });
  const wallMs = Math.max(...free);
  return {
    mode,
    startedAt: T0,
    wallMs,
    startupMs: 0,
    total: latencies.length,
    ok: latencies.length,
    failed: 0,
    badInput: 0,
    bytes: 15 * latencies.length,
    reqPerSec: (latencies.length * 1000) / wallMs,
    latency: { min: Math.min(...latencies), p50: 0, p95: 0, max: Math.max(...latencies) },
    achievedConcurrency: latencies.reduce((a, b) => a + b, 0) / wallMs,
    peakInFlight: Math.min(c, latencies.length),
    loopStallMs: 1,
    cpu: { selfMs: 10, helpersMs: 0, totalMs: 10 },
    memory: { selfPeakBytes: 50e6, helpersPeakBytes: 0 },
    threads: 1,
    helpers: 0,
    retries: 0,
    interrupted: null,
    spans: spans.slice(0, 1000),
    spansDropped: Math.max(0, spans.length - 1000),
    inFlight: { origin: T0, sliceMs: Math.max(1, wallMs / 100), values: Array.from({ length: 100 }, () => Math.min(c, latencies.length)) },
    ...extra,
  };
}

describe('timeline', () => {
  it.each([1, 12, 500])('renders %i URLs within 80 columns', (n) => {
    const s = fakeRun(
      'async',
      Array.from({ length: n }, (_, i) => 100 + ((i * 37) % 1400)),
      10,
    );
    const text = timeline(s, { width: 80, maxBars: 40, paint: plain });
    const lines = text.split('\n');
    expect(lines.length).toBeGreaterThan(1);
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(80);
    if (n <= 40) expect(lines).toHaveLength(n + 1);
    else expect(text).toMatch(/requests in flight/);
  });

  it('draws each bar where its request ran, labelled with path, status and duration', () => {
    const s = fakeRun('inline', [500, 500], 1);
    const [a, b, axis] = waterfall(s, { width: 80, maxBars: 40, paint: plain }).split('\n');
    expect(a).toMatch(/^#0 \/delay\/500\?i=0 +\|=+ +\| 200 500 ms$/);
    expect(b).toMatch(/^#1 \/delay\/500\?i=1 +\| +=+\| 200 500 ms$/);
    // the second bar starts where the first ends: inline never overlaps
    const bar = (line: string) => line.slice(line.indexOf('|') + 1, line.lastIndexOf('|'));
    expect(bar(b!).indexOf('=')).toBeGreaterThanOrEqual(bar(a!).lastIndexOf('='));
    expect(bar(a!).indexOf('=')).toBe(0);
    expect(axis).toMatch(/0 .*1\.00 s$/);
  });

  it.each([30, 45, 50, 200])('fits a %i-column terminal too', (width) => {
    const s = fakeRun('async', [100, 900, 1500, 250], 3);
    for (const mode of [40, 2]) {
      for (const l of timeline(s, { width, maxBars: mode, paint: plain }).split('\n')) expect(l.length).toBeLessThanOrEqual(width);
    }
  });

  it('labels bars with the host when the list spans several origins', () => {
    const s = fakeRun('async', [100, 200], 2);
    s.spans[1] = { ...s.spans[1]!, url: 'http://other.test:81/x' };
    const lines = waterfall(s, { width: 100, maxBars: 40, paint: plain }).split('\n');
    expect(lines[0]).toContain('127.0.0.1:8080/delay/100?i=0');
    expect(lines[1]).toContain('other.test:81/x');
  });
});

describe('compare', () => {
  it('names the faster mode and by how much; ± only with several runs', () => {
    const fast = fakeRun('async', Array(10).fill(600), 10);
    const slow = fakeRun('inline', Array(10).fill(600), 1);
    expect(
      verdicts([
        { mode: 'inline', runs: [slow] },
        { mode: 'async', runs: [fast] },
      ]).map((v) => v.text),
    ).toEqual(['fetch: async ran 10.00 times faster than inline']);
    const a = [600, 610, 590].map((w) => ({ ...fast, wallMs: w }));
    const t = [1200, 1230, 1170].map((w) => ({ ...fast, mode: 'threads', wallMs: w }));
    const [v] = verdicts([
      { mode: 'threads', runs: t },
      { mode: 'async', runs: a },
    ]);
    expect(v!.text).toBe('fetch: async ran 2.00 ± 0.06 times faster than threads');
    // σ by error propagation: r·sqrt((σa/a)² + (σb/b)²)
    expect(v!.sigma).toBeCloseTo(2 * Math.sqrt((30 / 1200) ** 2 + (10 / 600) ** 2), 6);
  });

  it('says "as fast as" for a tie and never divides by zero', () => {
    const x = fakeRun('async', [100], 1);
    expect(
      verdicts([
        { mode: 'async', runs: [x] },
        { mode: 'threads', runs: [{ ...x, mode: 'threads' }] },
      ])[0]!.text,
    ).toBe('fetch: async ran about as fast as threads (within noise: 1.00 times, under the 5 % one run can vary)');
    const zero = { ...x, wallMs: 0 };
    expect(
      verdicts([
        { mode: 'async', runs: [zero] },
        { mode: 'threads', runs: [x] },
      ])[0]!.text,
    ).toMatch(/no ratio/);
  });

  it('tabulates every mode side by side, mean ± σ', () => {
    const runs = [1000, 1100].map((w) => fakeRun('async', [w], 1));
    const table = compareTable(
      [
        { mode: 'async', runs },
        { mode: 'inline', runs: [fakeRun('inline', [2000], 1)] },
      ],
      plain,
    );
    expect(table.split('\n')[0]).toMatch(/async\s+inline$/);
    expect(table).toMatch(/wall \(fetch\)\s+1\.05 s ± 71 ms\s+2\.00 s/);
    expect(meanSd([1, 2, 3])).toEqual({ mean: 2, sd: 1, n: 3 });
  });
});

describe('records', () => {
  const rec: UrlRecord = {
    index: 3,
    url: 'http://h/a,"b"\nc\td',
    mode: 'threads',
    ok: false,
    status: 503,
    bytes: 10,
    start: T0,
    end: T0 + 501.26,
    ms: 501.26,
    attempts: 2,
    worker: 4,
    error: { code: 'HTTP_STATUS', message: '503 Service Unavailable' },
    file: null,
    finalUrl: 'http://h/final',
    redirects: 2,
    ttfbMs: 120.04,
    contentType: 'text/plain; charset=utf-8',
  };

  it('quotes csv per RFC 4180 and escapes tsv', () => {
    expect(csvHeader).toBe(
      'index,url,mode,ok,status,bytes,start,end,ms,attempts,worker,error,file,start_ms,end_ms,final_url,redirects,ttfb_ms,content_type,work_ms',
    );
    // Offsets from the run's start (here 250 ms before this URL's), to 0.001 ms.
    expect(csv(rec, T0 - 250)).toBe(
      '3,"http://h/a,""b""\nc\td",threads,false,503,10,2026-11-25T12:00:00.000Z,2026-11-25T12:00:00.501Z,501.3,2,4,HTTP_STATUS: 503 Service Unavailable,,250,751.26,http://h/final,2,120,text/plain; charset=utf-8,',
    );
    expect(tsv(rec, T0).split('\t')).toHaveLength(20);
    // --work's time, to 0.1 ms, in its own cell.
    expect(
      csv({ ...rec, workMs: 98.76 }, T0)
        .split(',')
        .at(-1),
    ).toBe('98.8');
    expect(tsv(rec, T0)).toContain('http://h/a,"b"\\nc\\td');
    // Nothing known: empty cells, as for status and worker.
    const none = { ...rec, finalUrl: null, ttfbMs: null, contentType: null, redirects: 0 };
    expect(csv(none, T0).split(',').slice(-7)).toEqual(['0', '501.26', '', '0', '', '', '']);
  });

  it('writes ndjson with the contract fields', () => {
    expect(JSON.parse(ndjson(rec, T0 - 250))).toEqual({
      index: 3,
      url: rec.url,
      mode: 'threads',
      ok: false,
      status: 503,
      bytes: 10,
      start: '2026-11-25T12:00:00.000Z',
      end: '2026-11-25T12:00:00.501Z',
      ms: 501.3,
      attempts: 2,
      worker: 4,
      error: { code: 'HTTP_STATUS', message: '503 Service Unavailable' },
      file: null,
      start_ms: 250,
      end_ms: 751.26,
      final_url: 'http://h/final',
      redirects: 2,
      ttfb_ms: 120,
      content_type: 'text/plain; charset=utf-8',
      work_ms: null,
    });
  });

  it('formats sizes and durations', () => {
    expect([bytes(999), bytes(1000), bytes(1234567)]).toEqual(['999 B', '1.0 kB', '1.2 MB']);
    expect([duration(0.42), duration(501.4), duration(1500), duration(125_000)]).toEqual(['0.4 ms', '501 ms', '1.50 s', '2 m 05 s']);
  });

  it('carries a rounding up a unit instead of printing 60 s or 1000 ms', () => {
    expect(duration(119_600)).toBe('2 m 00 s');
    expect(duration(59_960)).toBe('1 m 00 s');
    expect(duration(3_599_700)).toBe('60 m 00 s');
    expect(duration(999.6)).toBe('1.00 s');
    expect(duration(9_996)).toBe('10.0 s');
    expect(duration(0.96)).toBe('1 ms');
    expect(duration(60_000)).toBe('1 m 00 s');
    expect(duration(Number.NaN)).toBe('–');
  });
});
