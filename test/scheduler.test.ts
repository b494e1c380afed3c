// The scheduler against a fake engine that answers from a script: ordering, the -c and --per-host
// bounds, lazy input, retries and backoff, Retry-After, stops, the record fields and the summary.

import { describe, expect, it } from 'vitest';
import type { RunEvent, UrlRecord } from '../src/core/types.js';
import type { InputItem } from '../src/input.js';
import type { RunSummary } from '../src/measure/stats.js';
import { type RunConfig, runJobs } from '../src/scheduler/run.js';
import type { Sink } from '../src/sinks/types.js';
import { FakeEngine, jobs, type Step } from './helpers/fake-engine.js';

function config(over: Partial<RunConfig> = {}): RunConfig {
  return {
    mode: 'async',
    concurrency: 4,
    perHost: null,
    retries: 0,
    retryMaxWaitMs: 10_000,
    request: {
      method: 'GET',
      headers: [],
      userAgent: 'test',
      timeoutMs: 30_000,
      maxRedirects: 5,
      maxSize: 1e9,
      outputDir: null,
      saveClaims: null,
      body: null,
      proxy: { proxy: null, noProxy: true, env: {} },
      insecure: false,
      cacert: null,
    },
    ...over,
  };
}

/** A sink that keeps every event and the summary; `then` runs on each event (to stop a run, say). */
function collector(then: (e: RunEvent, seen: RunEvent[]) => void = () => {}) {
  const events: RunEvent[] = [];
  const ends: RunSummary[] = [];
  const sink: Sink = {
    onEvent(e) {
      events.push(e);
      then(e, events);
    },
    onEnd(s) {
      ends.push(s);
    },
  };
  const records = () => events.flatMap((e) => (e.kind === 'start' ? [] : [e.record]));
  const byIndex = (i: number): UrlRecord => records().find((r) => r.index === i)!;
  return { sink, events, ends, records, byIndex };
}

/** One run to its end, with a deadline: a scheduler that stalls fails the test rather than hanging it. */
async function run(
  engine: FakeEngine,
  items: AsyncIterable<InputItem>,
  over: Partial<RunConfig> = {},
  opts: { sinks?: Sink[]; signal?: AbortSignal; deadlineMs?: number } = {},
) {
  const c = collector();
  const running = runJobs({
    items,
    engine,
    config: config(over),
    sinks: opts.sinks ?? [c.sink],
    signal: opts.signal ?? new AbortController().signal,
    setup: { startupMs: 0, threads: 1 },
  });
  const summary = await within(running, opts.deadlineMs ?? 10_000);
  if (summary === 'timeout') throw new Error(`the run did not end within ${opts.deadlineMs ?? 10_000} ms`);
  return { summary, ...c };
}

const url = (origin: string, i: number) => `http://${origin}/p${i}`;
const many = (n: number, origin = 'a.test') => Array.from({ length: n }, (_, i) => url(origin, i));

/** Resolves with 'timeout' if `p` has not settled within `ms`: a deadline, not a measurement. */
function within<T>(p: Promise<T>, ms: number): Promise<T | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), ms);
  });
  return Promise.race([p, deadline]).finally(() => clearTimeout(timer));
}

describe('events and sinks', () => {
  it('a URL starts before it ends, and a short one overtakes a long one', async () => {
    const [slow, fast1, fast2] = many(3);
    const engine = new FakeEngine({ [slow!]: [{ ms: 300 }], [fast1!]: [{ ms: 10 }], [fast2!]: [{ ms: 10 }] });
    const { events } = await run(engine, jobs([slow!, fast1!, fast2!]), { concurrency: 2 });
    expect(events.map((e) => `${e.kind}${e.kind === 'start' ? e.index : e.record.index}`)).toEqual([
      'start0',
      'start1',
      'done1',
      'start2',
      'done2',
      'done0',
    ]);
  });

  it('every event goes to every sink in order; then onEnd once each, with the summary returned', async () => {
    const seen: string[] = [];
    const sink = (name: string): Sink => ({
      onEvent: (e) => seen.push(`${name}:${e.kind}`),
      onEnd: (s) => seen.push(`${name}:end:${s.total}`),
    });
    const { summary } = await run(new FakeEngine(), jobs(many(2)), { concurrency: 1 }, { sinks: [sink('A'), sink('B')] });
    expect(seen).toEqual(['A:start', 'B:start', 'A:done', 'B:done', 'A:start', 'B:start', 'A:done', 'B:done', 'A:end:2', 'B:end:2']);
    expect(summary.total).toBe(2);
  });

  it('a sink without onEnd is fine', async () => {
    const events: RunEvent[] = [];
    await run(new FakeEngine(), jobs(many(1)), {}, { sinks: [{ onEvent: (e) => events.push(e) }] });
    expect(events.map((e) => e.kind)).toEqual(['start', 'done']);
  });
});

describe('concurrency bounds', () => {
  it.each([1, 3, 5])('-c %i: never more in flight, and that many reached', async (c) => {
    const engine = new FakeEngine({}, { ms: 20 });
    const { summary } = await run(engine, jobs(many(12)), { concurrency: c });
    expect(engine.maxInFlight).toBe(c);
    expect(summary.peakInFlight).toBe(c);
    expect(summary.ok).toBe(12);
  });

  it.each([1, 2])('--per-host %i bounds each origin while another origin goes ahead', async (perHost) => {
    const a = many(6, 'a.test');
    const b = many(2, 'b.test:8080');
    const engine = new FakeEngine({}, { ms: 40 });
    const { summary } = await run(engine, jobs([...a, ...b]), { concurrency: 4, perHost });
    expect(engine.maxPerOrigin.get('http://a.test')).toBe(perHost);
    expect(engine.maxPerOrigin.get('http://b.test:8080')).toBe(Math.min(perHost, 2));
    expect(engine.maxInFlight).toBeLessThanOrEqual(4);
    // b's URLs come after all of a's in the input, yet start before a's queue drains.
    const order = engine.starts().map((s) => s.url);
    expect(order.indexOf(b[0]!)).toBeLessThan(order.indexOf(a[perHost]!));
    expect(order.filter((u) => u.includes('a.test'))).toEqual(a);
    expect(summary.ok).toBe(8);
  });

  it('--per-host above -c: -c still bounds the whole run', async () => {
    const engine = new FakeEngine({}, { ms: 20 });
    await run(engine, jobs(many(10)), { concurrency: 3, perHost: 5 });
    expect(engine.maxInFlight).toBe(3);
  });
});

describe('lazy input', () => {
  /** Endless input; `ahead` has, at each read, how many items were read but not yet finished. */
  function endless(finished: () => number) {
    const ahead: number[] = [];
    async function* gen(): AsyncGenerator<InputItem> {
      for (let index = 0; ; index++) {
        ahead.push(index + 1 - finished());
        yield { kind: 'job', job: { index, url: url('a.test', index) } };
      }
    }
    return { ahead, items: gen() };
  }

  it.each([
    // FIFO: a job read is started at once, so reading stops at -c in flight.
    { perHost: null, bound: (c: number) => c },
    // One origin, one at a time: the rest wait, up to the defer cap (4 × -c).
    { perHost: 1, bound: (c: number) => 1 + 4 * c },
  ])('an endless input is read only as far as the work (--per-host $perHost)', async ({ perHost, bound }) => {
    const c = 2;
    const ctl = new AbortController();
    let finished = 0;
    const { ahead, items } = endless(() => finished);
    const sink = collector((e) => {
      if (e.kind !== 'start' && ++finished === 15) ctl.abort('SIGINT');
    });
    const { summary } = await run(
      new FakeEngine({}, { ms: 5 }),
      items,
      { concurrency: c, perHost },
      { sinks: [sink.sink], signal: ctl.signal },
    );
    // Read as far ahead as allowed, and never further.
    expect(Math.max(...ahead)).toBe(bound(c));
    expect(summary.notStarted?.more).toBe(true);
    expect(summary.notStarted!.count).toBeLessThanOrEqual(bound(c));
  });
});

describe('retries', () => {
  const [u] = many(1);
  const one = async (steps: Step[], over: Partial<RunConfig> = {}) => {
    const engine = new FakeEngine({ [u!]: steps });
    const r = await run(engine, jobs([u!]), { retries: 3, ...over });
    return { engine, record: r.byIndex(0), ...r };
  };

  it.each([429, 500, 503])('retries a %i, counting attempts and retries', async (status) => {
    const { record, summary, events } = await one([{ status }, { status }, { status: 200 }]);
    expect(record).toMatchObject({ ok: true, status: 200, attempts: 3, error: null });
    expect(summary.retries).toBe(2);
    expect(events.flatMap((e) => (e.kind === 'start' ? [e.attempt] : []))).toEqual([1, 2, 3]);
  });

  it.each(['ECONNRESET', 'ECONNREFUSED', 'TIMEOUT', 'SOCKET_CLOSED'])('retries a network failure (%s)', async (code) => {
    const { record } = await one([{ code }, { status: 200 }]);
    expect(record).toMatchObject({ ok: true, attempts: 2 });
  });

  it.each([400, 404, 410])('never retries a %i', async (status) => {
    const { record, summary, engine } = await one([{ status }, { status: 200 }]);
    expect(record).toMatchObject({ ok: false, status, attempts: 1, error: { code: 'HTTP_STATUS' } });
    expect(summary.retries).toBe(0);
    expect(engine.callsTo(u!)).toBe(1);
  });

  it.each(['SIZE_LIMIT', 'TOO_MANY_REDIRECTS', 'ABORTED'])('never retries %s', async (code) => {
    const { record } = await one([{ code }, { status: 200 }]);
    expect(record).toMatchObject({ ok: false, attempts: 1, error: { code } });
  });

  it.each([0, 1, 2])('--retry %i: at most that many more attempts, then the last failure stands', async (retries) => {
    const { record, summary, engine } = await one([{ status: 503 }], { retries });
    expect(record).toMatchObject({ ok: false, status: 503, attempts: retries + 1 });
    expect(summary.retries).toBe(retries);
    expect(engine.callsTo(u!)).toBe(retries + 1);
  });

  it('the backoff grows: 50–100 ms, then 100–200, 200–400, 400–800', async () => {
    const { engine } = await one([{ status: 503, ms: 1 }], { retries: 4 });
    const starts = engine.starts(u).map((s) => s.t);
    const ends = engine.ends(u).map((s) => s.t);
    const gaps = starts.slice(1).map((t, i) => t - ends[i]!);
    expect(gaps).toHaveLength(4);
    // Timers never fire early (1 ms of slack for rounding); late is the machine's load, not the rule.
    for (const [i, g] of gaps.entries()) expect(g).toBeGreaterThanOrEqual(50 * 2 ** i - 1);
    expect(gaps[3]!).toBeGreaterThan(gaps[0]!);
  });

  it("waits the server's Retry-After when longer than the backoff", async () => {
    const { engine, record } = await one([{ status: 503, retryAfterMs: 400 }, { status: 200 }]);
    const gap = engine.starts(u)[1]!.t - engine.ends(u)[0]!.t;
    expect(gap).toBeGreaterThanOrEqual(399);
    expect(record).toMatchObject({ ok: true, attempts: 2 });
  });

  it('a Retry-After longer than --retry-max-wait fails the URL at once, saying why', async () => {
    const { engine, record } = await one([{ status: 429, retryAfterMs: 5000 }, { status: 200 }], { retryMaxWaitMs: 1000 });
    expect(engine.callsTo(u!)).toBe(1);
    expect(record.attempts).toBe(1);
    expect(record.end).toBe(engine.ends(u)[0]!.t);
    expect(record.error).toEqual({
      code: 'HTTP_STATUS',
      message: 'HTTP 429: the server asked to wait (Retry-After 5 s), longer than --retry-max-wait 1 s',
    });
  });

  it('a Retry-After equal to --retry-max-wait is waited', async () => {
    const { record } = await one([{ status: 503, retryAfterMs: 150 }, { status: 200 }], { retryMaxWaitMs: 150 });
    expect(record).toMatchObject({ ok: true, attempts: 2 });
  });
});

describe('stopping', () => {
  it('a stop starts nothing more, cancels what is in flight and ends the run promptly', async () => {
    const ctl = new AbortController();
    const engine = new FakeEngine({}, { ms: 10_000 });
    let starts = 0;
    const c = collector((e) => {
      if (e.kind === 'start' && ++starts === 3) setTimeout(() => ctl.abort('SIGINT'), 20);
    });
    // The jobs take 10 s each: ending within 3 s means they were cancelled, not awaited.
    const { summary } = await run(engine, jobs(many(10)), { concurrency: 3 }, { sinks: [c.sink], signal: ctl.signal, deadlineMs: 3000 });
    expect(engine.starts()).toHaveLength(3);
    expect(engine.inFlight).toBe(0);
    expect(c.records().map((r) => r.error?.code)).toEqual(['ABORTED', 'ABORTED', 'ABORTED']);
    expect(c.records().every((r) => r.attempts === 1)).toBe(true);
    expect(summary.interrupted).toBe('SIGINT');
    expect(summary.failed).toBe(3);
    // Input is read lazily: the rest was never read, so how many there were is left to the caller.
    expect(summary.notStarted).toEqual({ count: 0, more: true });
    expect(c.ends).toHaveLength(1);
  });

  it('jobs read but waiting at the stop are counted as not started', async () => {
    const ctl = new AbortController();
    const engine = new FakeEngine({}, { ms: 10_000 });
    const c = collector((e, seen) => {
      if (e.kind === 'start' && seen.length === 1) setTimeout(() => ctl.abort('SIGTERM'), 50);
    });
    const { summary } = await run(engine, jobs(many(3)), { concurrency: 2, perHost: 1 }, { sinks: [c.sink], signal: ctl.signal });
    expect(engine.starts()).toHaveLength(1);
    expect(summary.notStarted).toEqual({ count: 2, more: false });
  });

  it('a URL stopped in its retry wait ends when stopped, not after the wait', async () => {
    const ctl = new AbortController();
    const [u] = many(1);
    const engine = new FakeEngine({ [u!]: [{ status: 503, ms: 10, retryAfterMs: 5000 }, { status: 200 }] });
    let abortAt = 0;
    const c = collector((e) => {
      if (e.kind === 'start')
        setTimeout(() => {
          abortAt = performance.timeOrigin + performance.now();
          ctl.abort('SIGINT');
        }, 100);
    });
    await run(engine, jobs([u!]), { retries: 2 }, { sinks: [c.sink], signal: ctl.signal, deadlineMs: 3000 });
    const r = c.byIndex(0);
    expect(engine.callsTo(u!)).toBe(1);
    expect(r).toMatchObject({ ok: false, status: 503, attempts: 1 });
    expect(r.end).toBeGreaterThanOrEqual(abortAt);
    expect(r.end).toBeLessThan(engine.ends(u)[0]!.t + 5000);
    expect(r.ms).toBeCloseTo(r.end - r.start, 6);
  });
});

describe('the record', () => {
  it('spans every attempt: start of the first, end of the last; attempts counts only started ones', async () => {
    const [u] = many(1);
    const engine = new FakeEngine({
      [u!]: [
        { status: 503, ms: 20, worker: 1, reached: { finalUrl: 'http://a.test/503', redirects: 1, ttfbMs: 5, contentType: 'text/html' } },
        { code: 'ECONNREFUSED', starts: false },
        {
          status: 200,
          ms: 30,
          worker: 7,
          bytes: 123,
          file: '/tmp/p0',
          reached: { finalUrl: 'http://a.test/ok', redirects: 2, ttfbMs: 12.5, contentType: 'application/json' },
        },
      ],
    });
    const { byIndex, summary } = await run(engine, jobs([u!]), { retries: 3 });
    const r = byIndex(0);
    const starts = engine.starts(u);
    const ends = engine.ends(u);
    expect(r).toEqual({
      index: 0,
      url: u,
      mode: 'async',
      ok: true,
      status: 200,
      bytes: 123,
      start: starts[0]!.t,
      end: ends[1]!.t,
      ms: ends[1]!.t - starts[0]!.t,
      attempts: 2,
      worker: 7,
      error: null,
      file: '/tmp/p0',
      // Where the last attempt went and what answered it: its time to first byte is its own.
      finalUrl: 'http://a.test/ok',
      redirects: 2,
      ttfbMs: 12.5,
      contentType: 'application/json',
      workMs: null,
    });
    // The waits count: longer than the two attempts alone.
    expect(r.ms).toBeGreaterThan(20 + 30 + 50);
    expect(summary.retries).toBe(1);
  });

  it('a failure keeps its status and error, and its index and URL', async () => {
    const urls = many(2);
    const engine = new FakeEngine({ [urls[1]!]: [{ status: 404, worker: 3 }] });
    const { byIndex } = await run(engine, jobs(urls));
    expect(byIndex(1)).toMatchObject({
      index: 1,
      url: urls[1],
      ok: false,
      status: 404,
      attempts: 1,
      worker: 3,
      error: { code: 'HTTP_STATUS', message: 'HTTP 404' },
    });
  });

  it('a bad input line is a BAD_INPUT failure with no attempt, and the other URLs still run', async () => {
    const [a, b] = many(2);
    async function* items(): AsyncGenerator<InputItem> {
      yield { kind: 'job', job: { index: 0, url: a! } };
      yield { kind: 'bad', index: 1, where: 'list.txt:2', text: 'ftp://x', reason: "unsupported scheme 'ftp:'" };
      yield { kind: 'job', job: { index: 2, url: b! } };
    }
    const engine = new FakeEngine();
    const { byIndex, summary, events } = await run(engine, items());
    const bad = byIndex(1);
    expect(bad).toMatchObject({
      index: 1,
      url: 'ftp://x',
      mode: 'async',
      ok: false,
      status: null,
      bytes: 0,
      ms: 0,
      attempts: 0,
      worker: null,
      file: null,
      error: { code: 'BAD_INPUT', message: "list.txt:2: unsupported scheme 'ftp:'" },
      // Nothing was requested: no final URL, no hops, no response.
      finalUrl: null,
      redirects: 0,
      ttfbMs: null,
      contentType: null,
    });
    expect(bad.end).toBe(bad.start);
    expect(events.filter((e) => e.kind === 'fail')).toHaveLength(1);
    expect(engine.callsTo('ftp://x')).toBe(0);
    expect(summary).toMatchObject({ total: 3, ok: 2, failed: 1, badInput: 1 });
  });
});

describe('the summary', () => {
  it('counts ok, failed, bad lines and retries; nothing is "not started" without a stop', async () => {
    const u = many(4);
    const engine = new FakeEngine({
      [u[1]!]: [{ status: 404 }],
      [u[2]!]: [{ status: 503 }, { status: 200 }],
      [u[3]!]: [{ code: 'ECONNRESET' }],
    });
    async function* items(): AsyncGenerator<InputItem> {
      yield* jobs(u);
      yield { kind: 'bad', index: 4, where: 'f:5', text: 'x', reason: 'not a URL' };
    }
    const { summary } = await run(engine, items(), { retries: 1 });
    expect(summary).toMatchObject({ total: 5, ok: 2, failed: 3, badInput: 1, retries: 2, interrupted: null, notStarted: null });
  });

  it('achieved concurrency is the URLs’ time over wall time: 10 parallel 100 ms requests ≈ 10', async () => {
    const engine = new FakeEngine({}, { ms: 100 });
    const { summary } = await run(engine, jobs(many(10)), { concurrency: 10 });
    expect(summary.peakInFlight).toBe(10);
    expect(summary.achievedConcurrency).toBeGreaterThan(5);
    // never above -c but for the wall's rounding to whole ms (records' ISO times): up to 1 ms of it
    expect(summary.achievedConcurrency).toBeLessThanOrEqual((10 * (summary.wallMs + 1)) / summary.wallMs);
  });

  it('achieved concurrency of a serial run is 1: a URL in its retry wait is still in progress, as in its latency', async () => {
    const [u] = many(1);
    const engine = new FakeEngine({
      [u!]: [
        { status: 503, ms: 60, retryAfterMs: 300 },
        { status: 200, ms: 60 },
      ],
    });
    const { summary } = await run(engine, jobs([u!, ...many(2, 'b.test')]), { concurrency: 1, retries: 1 }, {});
    // One URL at a time from the first start to the last end (its 300 ms wait included, as the
    // records give it to `fetchall report`): the URLs' times add up to the wall, less the gaps between them.
    expect(summary.achievedConcurrency).toBeGreaterThan(0.9);
    expect(summary.achievedConcurrency).toBeLessThanOrEqual((summary.wallMs + 1) / summary.wallMs);
  });
});
