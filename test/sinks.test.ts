// The sinks by value: each listens to events and writes only through its Out; the end reports
// pick their stream by one rule.

import { Writable } from 'node:stream';
import { describe, expect, it, vi } from 'vitest';
import type { RunEvent, UrlRecord } from '../src/core/types.js';
import type { RunSummary } from '../src/measure/stats.js';
import { METRICS, runFigures } from '../src/render/compare.js';
import { plain } from '../src/render/paint.js';
import { CLEAR_LINE } from '../src/render/progress.js';
import { Out } from '../src/render/write.js';
import { BadLinesSink } from '../src/sinks/bad-lines.js';
import { Collector } from '../src/sinks/collector.js';
import { LinesSink } from '../src/sinks/lines.js';
import { ProgressSink } from '../src/sinks/progress.js';
import { RecordsSink } from '../src/sinks/records.js';
import { printComparison, ReportSink, reportTarget } from '../src/sinks/report.js';
import type { Outputs } from '../src/sinks/types.js';

const T0 = Date.UTC(2026, 10, 25, 12, 0, 0);

/** A stream that keeps what it is given. */
function capture(): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  return { stream, text: () => chunks.join('') };
}

function outputs(): Outputs & { stdout: () => string; stderr: () => string } {
  const o = capture();
  const e = capture();
  return { out: new Out(o.stream, true), err: new Out(e.stream, true), paint: plain, errPaint: plain, stdout: o.text, stderr: e.text };
}

function record(index: number, over: Partial<UrlRecord> = {}): UrlRecord {
  return {
    index,
    url: `http://127.0.0.1/${index}`,
    mode: 'async',
    ok: true,
    status: 200,
    bytes: 10,
    start: T0,
    end: T0 + 100,
    ms: 100,
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

const start = (index: number, attempt = 1): RunEvent => ({
  kind: 'start',
  index,
  url: `http://127.0.0.1/${index}`,
  t: T0,
  worker: null,
  attempt,
});
const bad = (message: string): RunEvent => ({
  kind: 'fail',
  record: record(9, { ok: false, status: null, attempts: 0, error: { code: 'BAD_INPUT', message } }),
});

function summary(over: Partial<RunSummary> = {}): RunSummary {
  return {
    mode: 'async',
    startedAt: T0,
    wallMs: 200,
    startupMs: 0,
    total: 2,
    ok: 2,
    failed: 0,
    badInput: 0,
    bytes: 20,
    reqPerSec: 10,
    latency: { min: 100, p50: 100, p95: 150, max: 150 },
    achievedConcurrency: 1.25,
    peakInFlight: 2,
    loopStallMs: 3,
    cpu: { selfMs: 10, helpersMs: 5, totalMs: 15 },
    memory: { selfPeakBytes: 50e6, helpersPeakBytes: 7e6 },
    threads: 1,
    helpers: 0,
    retries: 0,
    interrupted: null,
    spans: [],
    spansDropped: 0,
    inFlight: { origin: T0, sliceMs: 2, values: [] },
    ...over,
  };
}

describe('records sink', () => {
  it('writes the header when the run starts, then one row per finished URL, never one per start', () => {
    const io = outputs();
    const sink = new RecordsSink(io.out, 'csv', true);
    sink.onStart(T0);
    sink.onEvent(start(0));
    sink.onEvent({ kind: 'done', record: record(0) });
    sink.onEvent(bad('list.txt:2: not a URL'));
    const lines = io.stdout().trimEnd().split('\n');
    expect(lines[0]).toBe(
      'index,url,mode,ok,status,bytes,start,end,ms,attempts,worker,error,file,start_ms,end_ms,final_url,redirects,ttfb_ms,content_type,work_ms',
    );
    expect(lines).toHaveLength(3);
    expect(lines[2]).toMatch(/^9,.*BAD_INPUT/);
    expect(io.stderr()).toBe('');
  });

  it('writes no header for ndjson, or when told not to (compare after its first run)', () => {
    for (const sink of [(o: Out) => new RecordsSink(o, 'ndjson', true), (o: Out) => new RecordsSink(o, 'tsv', false)]) {
      const io = outputs();
      sink(io.out).onStart(T0);
      expect(io.stdout()).toBe('');
    }
  });
});

describe('lines sink', () => {
  it('dates each line from the origin it was given at the start', () => {
    const io = outputs();
    const sink = new LinesSink(io.out, plain);
    sink.onStart(T0 - 1500);
    sink.onEvent(start(3));
    expect(io.stdout()).toMatch(/\+1\.500s {2}start {2}#3 {4}http:\/\/127\.0\.0\.1\/3\n$/);
  });
});

describe('bad-lines sink', () => {
  it('writes only BAD_INPUT messages, on stderr, escaped', () => {
    const io = outputs();
    const sink = new BadLinesSink(io.err);
    sink.onEvent(start(0));
    sink.onEvent({ kind: 'fail', record: record(1, { ok: false, error: { code: 'TIMEOUT', message: 'too slow' } }) });
    sink.onEvent(bad('list.txt:4: not a URL: \x1b[31m'));
    expect(io.stderr()).toBe('list.txt:4: not a URL: \\x1b[31m\n');
    expect(io.stdout()).toBe('');
  });
});

describe('progress sink', () => {
  it('counts a URL in flight from its first attempt to its record, and clears its line once at the end', async () => {
    // Fake timers: the 200 ms redraw is run by moving time, not waited for, and after close()
    // any time at all can be let pass.
    vi.useFakeTimers();
    try {
      const io = outputs();
      const sink = new ProgressSink(io.err, 3);
      sink.onStart(Date.now());
      sink.onEvent(start(0));
      sink.onEvent(start(1));
      sink.onEvent(start(1, 2)); // a retry is not one more in flight
      sink.onEvent({ kind: 'done', record: record(0) });
      sink.onEvent(bad('x:1: not a URL')); // done, never in flight
      await vi.advanceTimersByTimeAsync(200);
      expect(io.stderr()).toMatch(/^\r\x1b\[K2\/3 done · 1 failed · 1 in flight · /);
      sink.close();
      sink.close();
      expect(io.stderr().endsWith(CLEAR_LINE)).toBe(true);
      expect(io.stderr().split(CLEAR_LINE).at(-1)).toBe('');
      const after = io.stderr();
      // Closed: no redraw timer left, and a minute of redraw ticks writes nothing.
      expect(vi.getTimerCount()).toBe(0);
      await vi.advanceTimersByTimeAsync(60_000);
      expect(io.stderr()).toBe(after);
      expect(io.stdout()).toBe('');
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('report sink', () => {
  const opts = { format: 'text' as const, quiet: false, timeline: false };
  const layout = { columns: 80, rows: 24 };

  it('follows one rule: a finished text run on stdout, anything else on stderr', () => {
    const io = outputs();
    expect(reportTarget(io, 'text', null)).toMatchObject({ out: io.out, toStdout: true });
    expect(reportTarget(io, 'text', 'SIGINT')).toMatchObject({ out: io.err, toStdout: false });
    expect(reportTarget(io, 'ndjson', null)).toMatchObject({ out: io.err, toStdout: false });
  });

  it('prints the summary where the rule says, and nothing for quiet machine formats', () => {
    const text = outputs();
    new ReportSink(text, opts, layout).onEnd(summary());
    expect(text.stdout()).toMatch(/^\nasync: 2 URLs in /);
    expect(text.stderr()).toBe('');
    const nd = outputs();
    new ReportSink(nd, { ...opts, format: 'ndjson' }, layout).onEnd(summary());
    expect(nd.stdout()).toBe('');
    expect(nd.stderr()).toMatch(/^async: 2 URLs in /);
    const quiet = outputs();
    new ReportSink(quiet, { ...opts, format: 'csv', quiet: true }, layout).onEnd(summary());
    expect(quiet.stdout() + quiet.stderr()).toBe('');
  });

  it('takes a stop the command learned late, and says nothing for a stopped run when told so', () => {
    const late = outputs();
    new ReportSink(late, opts, layout).onEnd(summary(), 'SIGINT');
    expect(late.stdout()).toBe('');
    expect(late.stderr()).toMatch(/async: 2 URLs/);
    const compare = outputs();
    new ReportSink(compare, opts, layout, true).onEnd(summary({ interrupted: 'SIGTERM' }));
    expect(compare.stdout() + compare.stderr()).toBe('');
  });
});

describe('collector and comparison', () => {
  it('keeps each run by mode and prints the table and verdict on the rule’s stream', () => {
    const c = new Collector(['inline', 'async']);
    c.sinkFor('inline').onEnd!(summary({ mode: 'inline', wallMs: 400, failed: 1 }));
    c.sinkFor('async').onEnd!(summary({ wallMs: 200 }));
    expect(c.modes.map((m) => m.runs.length)).toEqual([1, 1]);
    expect(c.failed()).toBe(1);
    const io = outputs();
    printComparison(io, { format: 'text', quiet: false, timeline: true }, c.modes, null);
    expect(io.stdout()).toMatch(/^\nComparison\n/);
    expect(io.stdout()).toMatch(/\nfetch: async ran 2\.00 times faster than inline\n$/);
    const stopped = outputs();
    printComparison(stopped, { format: 'text', quiet: true, timeline: true }, c.modes, 'SIGINT');
    // -q and a stop: the table still says what was done, on stderr (stdout may be a pipe of records)
    expect(stopped.stdout()).toBe('');
    expect(stopped.stderr()).toMatch(/^\nComparison {2}\(interrupted by SIGINT: partial\)\n/);
  });
});

describe('compare figures', () => {
  it('export every figure under a snake_case key with its unit, and the table reads the same figures', () => {
    const f = runFigures(summary());
    expect(f).toMatchObject({
      wall_ms: 200,
      startup_ms: 0,
      req_per_sec: 10,
      p50_ms: 100,
      p95_ms: 150,
      cpu_ms: 15,
      cpu_self_ms: 10,
      rss_bytes: 50e6,
      helpers_rss_bytes: 7e6,
      peak_in_flight: 2,
      achieved_concurrency: 1.25,
      not_started: null,
    });
    for (const key of Object.keys(f)) expect(key).toMatch(/^[a-z][a-z0-9_]*$/);
    for (const m of METRICS) expect(m.get(summary())).toBe(f[m.key] ?? Number.NaN);
    expect(runFigures(summary({ latency: null })).p50_ms).toBeNull();
  });
});
