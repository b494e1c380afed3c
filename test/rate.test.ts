// --rate and --per-host-rate: the token bucket on a fake clock, the scheduler's gate on a fake
// engine (retries included, no slot held while waiting), and the built CLI in every mode against
// the arrival log of real loopback servers.

import { describe, expect, it, vi } from 'vitest';
import { MODES } from '../src/core/types.js';
import type { InputItem } from '../src/input.js';
import { parseRate } from '../src/options.js';
import { RateGate, TokenBucket } from '../src/scheduler/rate.js';
import { type RunConfig, runJobs } from '../src/scheduler/run.js';
import { startServer } from '../src/server/index.js';
import { run } from './helpers/cli.js';
import { FakeEngine, jobs } from './helpers/fake-engine.js';
import { urls, useServer } from './helpers/server.js';

// The scheduler and the fake engine read the time through core/clock's now(): on Date.now(), which
// fake timers move, so the scheduler tests run on a fake clock. The CLI tests run the built CLI in
// its own process and the server keeps its own clock: neither is touched.
vi.mock('../src/core/clock.js', async (importOriginal) => ({
  ...(await importOriginal<typeof import('../src/core/clock.js')>()),
  now: () => Date.now(),
}));

/** The most arrivals any window of `windowMs` holds (half-open: [t, t + windowMs)). */
function busiestWindow(times: number[], windowMs = 1000): number {
  const t = [...times].sort((a, b) => a - b);
  let best = 0;
  for (let i = 0, j = 0; j < t.length; j++) {
    while (t[j]! - t[i]! >= windowMs) i++;
    best = Math.max(best, j - i + 1);
  }
  return best;
}

/**
 * The most starts the gate lets into any half-open span of `ms`: its bucket holds one token, so
 * starts are at least 1000/perSec apart (rate.ts), and k of them span (k - 1)·1000/perSec < ms.
 */
function mostStarts(perSec: number, ms: number): number {
  return Math.ceil((ms * perSec) / 1000);
}

/**
 * Every attempt's start as the CLI's own lines give it (`+1.234s  start|retry  #i  [thread n]  [attempt n]  URL`),
 * in ms from its run's start, per URL, in attempt order.
 */
function attemptStarts(stdout: string): Map<string, number[]> {
  const starts = new Map<string, number[]>();
  for (const line of stdout.split('\n')) {
    const m = /^\S+\s+\+(\d+\.\d{3})s\s+(?:start|retry)\s+#\d+\s.*\s(\S+)$/.exec(line);
    if (!m) continue;
    starts.set(m[2]!, [...(starts.get(m[2]!) ?? []), Number(m[1]) * 1000]);
  }
  return starts;
}

/**
 * How far delivery can shift a start: the spread, over the requests the CLI logged a start for, of
 * (arrival at the server, by its clock) - (that attempt's start, by the CLI's). The clocks' offset
 * cancels in the spread; +1 ms for the two roundings to 0.5 ms. A window of `ms` at the server then
 * holds only starts from a span of ms + this, which is where the bounds below come from: load moves
 * arrivals, and this measures how far, independently of how the gate spaced them.
 */
function deliverySpread(base: string, requests: { path: string; arrival: number }[], starts: Map<string, number[]>): number {
  const seen = new Map<string, number>();
  const delays: number[] = [];
  for (const q of [...requests].sort((a, b) => a.arrival - b.arrival)) {
    const k = seen.get(q.path) ?? 0;
    seen.set(q.path, k + 1);
    const t = starts.get(`${base}${q.path}`)?.[k];
    if (t !== undefined) delays.push(q.arrival - t);
  }
  // Every start line found its request at the server.
  expect(delays.length).toBeGreaterThan(0);
  expect(delays).toHaveLength([...starts.values()].flat().length);
  return Math.max(...delays) - Math.min(...delays) + 1;
}

/**
 * Run `body` on fake timers, with the project's clock (core/clock's now, mocked below) on fake time:
 * a unit test of the gate measures time that no load can stretch. Time moves 1 ms at a time until
 * `body` settles (runFake's 20 s deadline is fake time too, so a hung run still ends).
 */
async function onFakeClock<T>(body: () => Promise<T>): Promise<T> {
  vi.useFakeTimers({ now: 1_000_000 });
  try {
    let settled = false;
    const p = body().finally(() => {
      settled = true;
    });
    while (!settled) await vi.advanceTimersByTimeAsync(1);
    return await p;
  } finally {
    vi.useRealTimers();
  }
}

describe('parseRate', () => {
  it.each([
    ['20', 20],
    ['20/s', 20],
    ['90/m', 1.5],
    ['0.5/s', 0.5],
    [' 6 / min ', 0.1],
  ])('%s → %d per second', (text, perSec) => {
    expect(parseRate('--rate', text)).toBeCloseTo(perSec, 9);
  });

  it.each(['0', '0/s', '-1', 'fast', '5/h', '1e3', ''])('rejects %j naming the flag', (text) => {
    expect(() => parseRate('--per-host-rate', text)).toThrow(/^--per-host-rate: /);
  });
});

describe('TokenBucket (fake clock)', () => {
  it('holds one token: the first start is free, then one every 1/rate, and idling saves up no burst', () => {
    const b = new TokenBucket(4); // 250 ms apart
    expect(b.delay(1000)).toBe(0);
    b.take(1000);
    expect(b.delay(1000)).toBe(250);
    expect(b.delay(1200)).toBe(50);
    expect(b.delay(1250)).toBe(0);
    b.take(1250);
    // Ten seconds idle: still only one token.
    expect(b.delay(11_250)).toBe(0);
    b.take(11_250);
    expect(b.delay(11_250)).toBe(250);
  });

  it('a late start is spaced from when it happened, not from when the token came', () => {
    const b = new TokenBucket(10);
    b.take(0);
    b.take(130); // 30 ms late
    expect(b.delay(200)).toBe(30);
  });
});

describe('RateGate (fake clock)', () => {
  it('an attempt needs both the global and its origin token; origins are apart', () => {
    let t = 0;
    const gate = new RateGate(10, 2, () => t); // 100 ms globally, 500 ms per origin
    const a = 'http://a.test/x';
    const b = 'http://b.test/y';
    expect(gate.delay(a)).toBe(0);
    gate.take(a);
    expect(gate.delay(a)).toBe(500);
    expect(gate.delay(b)).toBe(100);
    t = 100;
    expect(gate.delay(b)).toBe(0);
    gate.take(b);
    t = 200;
    expect(gate.delay('http://a.test/other-path')).toBe(300);
    expect(gate.delay(b)).toBe(400);
    expect(gate.delay('http://c.test/')).toBe(0);
  });

  it('forgets idle origins once there are many, and keeps busy ones', () => {
    let t = 0;
    const gate = new RateGate(null, 1, () => t);
    for (let i = 0; i < 5000; i++) gate.take(`http://h${i}.test/`);
    t = 10_000;
    gate.take('http://busy.test/');
    for (let i = 0; i < 5000; i++) gate.take(`http://k${i}.test/`);
    expect(gate.delay('http://busy.test/')).toBe(1000);
    expect(gate.delay('http://k1.test/')).toBe(1000);
    expect(gate.delay('http://h1.test/')).toBe(0);
    expect((gate as unknown as { hosts: Map<string, unknown> }).hosts.size).toBeLessThan(7000);
  });
});

function config(over: Partial<RunConfig>): RunConfig {
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

async function runFake(engine: FakeEngine, items: AsyncIterable<InputItem>, over: Partial<RunConfig>) {
  const ctl = new AbortController();
  const deadline = setTimeout(() => ctl.abort('deadline'), 20_000);
  try {
    const summary = await runJobs({
      items,
      engine,
      config: config(over),
      sinks: [],
      signal: ctl.signal,
      setup: { startupMs: 0, threads: 1 },
    });
    expect(summary.interrupted).toBeNull();
    return summary;
  } finally {
    clearTimeout(deadline);
  }
}

/** Gaps between consecutive starts, in ms. */
function gaps(times: number[]): number[] {
  const t = [...times].sort((a, b) => a - b);
  return t.slice(1).map((x, i) => x - t[i]!);
}

describe('the scheduler with a rate (fake clock)', () => {
  it('spaces every attempt start, retries included, and ends only when the queue is empty', async () => {
    // Every URL fails twice with a 503 and then answers: 3 attempts each, 24 starts.
    const list = Array.from({ length: 8 }, (_, i) => `http://a.test/${i}`);
    const script = Object.fromEntries(list.map((u) => [u, [{ status: 503, ms: 1 }, { status: 503, ms: 1 }, { ms: 1 }]]));
    const engine = new FakeEngine(script);
    const summary = await onFakeClock(() => runFake(engine, jobs(list), { rate: 40, retries: 2, concurrency: 8 }));
    expect(summary.ok).toBe(8);
    const starts = engine.starts().map((e) => e.t);
    expect(starts).toHaveLength(24);
    // 25 ms apart at 40/s, exactly: on a fake clock no start comes late or early.
    expect(Math.min(...gaps(starts))).toBeGreaterThanOrEqual(25);
    expect(busiestWindow(starts)).toBeLessThanOrEqual(mostStarts(40, 1000));
  });

  it('a job waiting for its token holds no slot: with -c 1, another origin goes meanwhile', async () => {
    // Each origin may start once a second. Input: a, a, b, b.
    const list = ['http://a.test/1', 'http://a.test/2', 'http://b.test/1', 'http://b.test/2'];
    const engine = new FakeEngine({}, { ms: 5 });
    await onFakeClock(() => runFake(engine, jobs(list), { perHostRate: 1, concurrency: 1 }));
    const at = (url: string) => engine.starts(url)[0]!.t;
    // a.test/2 waits 1 s for its token, and b.test/1 runs in that second rather than after it.
    expect(at('http://b.test/1')).toBeLessThan(at('http://a.test/2'));
    expect(at('http://a.test/2') - at('http://a.test/1')).toBeGreaterThanOrEqual(1000);
    expect(at('http://b.test/2') - at('http://b.test/1')).toBeGreaterThanOrEqual(1000);
    expect(engine.maxInFlight).toBe(1);
  });

  it('with --per-host too, both limits hold', async () => {
    const list = Array.from({ length: 12 }, (_, i) => `http://${i % 2 ? 'a' : 'b'}.test/${i}`);
    const engine = new FakeEngine({}, { ms: 10 });
    await onFakeClock(() => runFake(engine, jobs(list), { perHost: 1, perHostRate: 20, concurrency: 6 }));
    for (const o of ['http://a.test', 'http://b.test']) {
      expect(engine.maxPerOrigin.get(o)).toBe(1);
      const t = engine.starts().filter((e) => e.url.startsWith(o));
      expect(t).toHaveLength(6);
      expect(Math.min(...gaps(t.map((e) => e.t)))).toBeGreaterThanOrEqual(50);
    }
  });
});

// Counted at the server, by its own arrival times. Load delays each request between the CLI's start
// and the server's log by a different amount, so arrivals can bunch closer than the gate spaced the
// starts: each bound below is the gate's (mostStarts) over a window widened by the delivery spread
// measured in the same run (deliverySpread), not a fixed allowance.
describe('--rate and --per-host-rate, the CLI against the server log', () => {
  const s = useServer();

  it.each(MODES)('%s: --rate 20/s over 60 URLs: no 1 s of arrivals holds more than the gate lets through', async (mode) => {
    s.server.reset();
    const list = urls(s.server.url, '/delay/0', 60, `&rate-${mode}`);
    const r = await run(['-m', mode, '-c', '8', '--no-timeline', '--rate', '20/s', ...list]);
    expect(r.code, r.stderr).toBe(0);
    const requests = s.server.stats().requests.filter((q) => q.path.includes(`&rate-${mode}`));
    const arrivals = requests.map((q) => q.arrival);
    expect(arrivals).toHaveLength(60);
    const spread = deliverySpread(s.server.url, requests, attemptStarts(r.stdout));
    expect(busiestWindow(arrivals), `delivery spread ${spread} ms`).toBeLessThanOrEqual(mostStarts(20, 1000 + spread));
    // 59 gaps of 50 ms between starts; arrivals can close that up by the spread at most.
    expect(Math.max(...arrivals) - Math.min(...arrivals), `delivery spread ${spread} ms`).toBeGreaterThanOrEqual(59 * 50 - spread);
  });

  it.each(MODES)('%s: redirect hops count: 3 URLs of /redirect/3 at --rate 4/s stay within the gate each second', async (mode) => {
    s.server.reset();
    const list = [1, 2, 3].map((i) => `${s.server.url}/redirect/3?hop-${mode}-${i}`);
    const r = await run(['-m', mode, '-c', '3', '--no-timeline', '--rate', '4/s', ...list]);
    expect(r.code, r.stderr).toBe(0);
    // Each URL is 4 requests (3 redirects and the 200): 12 in all, 250 ms apart.
    const requests = s.server.stats().requests.filter((q) => q.path.startsWith('/redirect/'));
    const arrivals = requests.map((q) => q.arrival);
    expect(arrivals).toHaveLength(12);
    // A hop has no start line: the spread is measured on each URL's first request.
    const spread = deliverySpread(s.server.url, requests, attemptStarts(r.stdout));
    expect(busiestWindow(arrivals), `delivery spread ${spread} ms`).toBeLessThanOrEqual(mostStarts(4, 1000 + spread));
    expect(Math.max(...arrivals) - Math.min(...arrivals), `delivery spread ${spread} ms`).toBeGreaterThanOrEqual(11 * 250 - spread);
  });

  it('--rate holds under retries: every 503 retried, still within the gate each second', async () => {
    s.server.reset();
    // /status/503 fails every attempt: 10 URLs × 3 attempts = 30 arrivals at 15/s.
    const list = urls(s.server.url, '/status/503', 10, '&rate-retry');
    const r = await run(['-c', '10', '--no-timeline', '--retries', '2', '--retry-max-wait', '20ms', '--rate', '15/s', ...list]);
    expect(r.code).toBe(1);
    const requests = s.server.stats().requests.filter((q) => q.path.includes('&rate-retry'));
    const arrivals = requests.map((q) => q.arrival);
    expect(arrivals).toHaveLength(30);
    // Every attempt has its line (start, then retry … attempt n): each request is paired with its own.
    const starts = attemptStarts(r.stdout);
    expect([...starts.values()].flat()).toHaveLength(30);
    const spread = deliverySpread(s.server.url, requests, starts);
    expect(busiestWindow(arrivals), `delivery spread ${spread} ms`).toBeLessThanOrEqual(mostStarts(15, 1000 + spread));
    expect(Math.max(...arrivals) - Math.min(...arrivals), `delivery spread ${spread} ms`).toBeGreaterThanOrEqual((29 * 1000) / 15 - spread);
  });

  it('--per-host-rate: each of two origins stays under its own rate, and they go side by side', async () => {
    const other = await startServer({ port: 0 });
    try {
      s.server.reset();
      const a = urls(s.server.url, '/delay/0', 24, '&phr');
      const b = urls(other.url, '/delay/0', 24, '&phr');
      // All of one origin first, as a sorted list would be: the other must not wait behind it.
      const r = await run(['-c', '6', '--no-timeline', '--per-host-rate', '10/s', ...a, ...b]);
      expect(r.code, r.stderr).toBe(0);
      const logged = (srv: typeof other) => srv.stats().requests.filter((q) => q.path.includes('&phr'));
      const starts = (base: string) => new Map([...attemptStarts(r.stdout)].filter(([u]) => u.startsWith(`${base}/`)));
      for (const srv of [s.server, other]) {
        const requests = logged(srv);
        const arrivals = requests.map((q) => q.arrival);
        expect(arrivals).toHaveLength(24);
        const spread = deliverySpread(srv.url, requests, starts(srv.url));
        expect(busiestWindow(arrivals), `delivery spread ${spread} ms`).toBeLessThanOrEqual(mostStarts(10, 1000 + spread));
        expect(Math.max(...arrivals) - Math.min(...arrivals), `delivery spread ${spread} ms`).toBeGreaterThanOrEqual(23 * 100 - spread);
      }
      // Side by side, by the CLI's own start times: the second origin began before the first was done.
      const firstB = Math.min(...[...starts(other.url).values()].flat());
      const lastA = Math.max(...[...starts(s.server.url).values()].flat());
      expect(firstB).toBeLessThan(lastA);
    } finally {
      await other.close();
    }
  });
});
