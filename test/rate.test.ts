// --rate and --per-host-rate: the token bucket on a fake clock, the scheduler's gate on a fake
// engine (retries included, no slot held while waiting), and the built CLI in every mode against
// the arrival log of real loopback servers.

import { describe, expect, it } from 'vitest';
import type { InputItem } from '../src/input.js';
import { parseRate } from '../src/options.js';
import { RateGate, TokenBucket } from '../src/scheduler/rate.js';
import { type RunConfig, runJobs } from '../src/scheduler/run.js';
import { startServer } from '../src/server/index.js';
import { run } from './helpers/cli.js';
import { FakeEngine, jobs } from './helpers/fake-engine.js';
import { urls, useServer } from './helpers/server.js';

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

describe('the scheduler with a rate', () => {
  it('spaces every attempt start, retries included, and ends only when the queue is empty', async () => {
    // Every URL fails twice with a 503 and then answers: 3 attempts each, 24 starts.
    const list = Array.from({ length: 8 }, (_, i) => `http://a.test/${i}`);
    const script = Object.fromEntries(list.map((u) => [u, [{ status: 503, ms: 1 }, { status: 503, ms: 1 }, { ms: 1 }]]));
    const engine = new FakeEngine(script);
    const summary = await runFake(engine, jobs(list), { rate: 40, retries: 2, concurrency: 8 });
    expect(summary.ok).toBe(8);
    const starts = engine.starts().map((e) => e.t);
    expect(starts).toHaveLength(24);
    // 25 ms apart at 40/s; a timer may fire a hair early by the clock, never a whole gap.
    expect(Math.min(...gaps(starts))).toBeGreaterThanOrEqual(24);
    expect(busiestWindow(starts)).toBeLessThanOrEqual(41);
  });

  it('a job waiting for its token holds no slot: with -c 1, another origin goes meanwhile', async () => {
    // Each origin may start once a second. Input: a, a, b, b.
    const list = ['http://a.test/1', 'http://a.test/2', 'http://b.test/1', 'http://b.test/2'];
    const engine = new FakeEngine({}, { ms: 5 });
    await runFake(engine, jobs(list), { perHostRate: 1, concurrency: 1 });
    const at = (url: string) => engine.starts(url)[0]!.t;
    // a.test/2 waits ~1 s for its token, and b.test/1 runs in that second rather than after it.
    expect(at('http://b.test/1')).toBeLessThan(at('http://a.test/2'));
    expect(at('http://a.test/2') - at('http://a.test/1')).toBeGreaterThanOrEqual(999);
    expect(at('http://b.test/2') - at('http://b.test/1')).toBeGreaterThanOrEqual(999);
    expect(engine.maxInFlight).toBe(1);
  });

  it('with --per-host too, both limits hold', async () => {
    const list = Array.from({ length: 12 }, (_, i) => `http://${i % 2 ? 'a' : 'b'}.test/${i}`);
    const engine = new FakeEngine({}, { ms: 10 });
    await runFake(engine, jobs(list), { perHost: 1, perHostRate: 20, concurrency: 6 });
    for (const o of ['http://a.test', 'http://b.test']) {
      expect(engine.maxPerOrigin.get(o)).toBe(1);
      const t = engine.starts().filter((e) => e.url.startsWith(o));
      expect(Math.min(...gaps(t.map((e) => e.t)))).toBeGreaterThanOrEqual(49);
    }
  });
});

describe('--rate and --per-host-rate, the CLI against the server log', () => {
  const s = useServer();

  it.each(['async', 'threads', 'inline'])('%s: --rate 20/s over 60 URLs: no 1 s of arrivals holds more than 21', async (mode) => {
    s.server.reset();
    const list = urls(s.server.url, '/delay/0', 60, `&rate-${mode}`);
    const r = await run(['-m', mode, '-c', '8', '-f', 'ndjson', '-q', '--rate', '20/s', ...list]);
    expect(r.code, r.stderr).toBe(0);
    const arrivals = s.server
      .stats()
      .requests.filter((q) => q.path.includes(`&rate-${mode}`))
      .map((q) => q.arrival);
    expect(arrivals).toHaveLength(60);
    expect(busiestWindow(arrivals)).toBeLessThanOrEqual(21);
    // 59 gaps of 50 ms.
    expect(Math.max(...arrivals) - Math.min(...arrivals)).toBeGreaterThanOrEqual(2900);
  });

  it.each(['async', 'threads', 'inline'])(
    '%s: redirect hops count: 3 URLs of /redirect/3 at --rate 4/s stay ≤ 5 a second',
    async (mode) => {
      s.server.reset();
      const list = [1, 2, 3].map((i) => `${s.server.url}/redirect/3?hop-${mode}-${i}`);
      const r = await run(['-m', mode, '-c', '3', '-f', 'ndjson', '-q', '--rate', '4/s', ...list]);
      expect(r.code, r.stderr).toBe(0);
      // Each URL is 4 requests (3 redirects and the 200): 12 in all, 250 ms apart.
      const arrivals = s.server
        .stats()
        .requests.filter((q) => q.path.startsWith('/redirect/'))
        .map((q) => q.arrival);
      expect(arrivals).toHaveLength(12);
      expect(busiestWindow(arrivals)).toBeLessThanOrEqual(5);
    },
  );

  it('--rate holds under retries: every 503 retried, still ≤ N + 1 a second', async () => {
    s.server.reset();
    // /status/503 fails every attempt: 10 URLs × 3 attempts = 30 arrivals at 15/s.
    const list = urls(s.server.url, '/status/503', 10, '&rate-retry');
    const r = await run(['-c', '10', '-f', 'ndjson', '-q', '--retries', '2', '--retry-max-wait', '20ms', '--rate', '15/s', ...list]);
    expect(r.code).toBe(1);
    const arrivals = s.server
      .stats()
      .requests.filter((q) => q.path.includes('&rate-retry'))
      .map((q) => q.arrival);
    expect(arrivals).toHaveLength(30);
    expect(busiestWindow(arrivals)).toBeLessThanOrEqual(16);
  });

  it('--per-host-rate: each of two origins stays under its own rate, and they go side by side', async () => {
    const other = await startServer({ port: 0 });
    try {
      s.server.reset();
      const a = urls(s.server.url, '/delay/0', 24, '&phr');
      const b = urls(other.url, '/delay/0', 24, '&phr');
      // All of one origin first, as a sorted list would be: the other must not wait behind it.
      const r = await run(['-c', '6', '-f', 'ndjson', '-q', '--per-host-rate', '10/s', ...a, ...b]);
      expect(r.code, r.stderr).toBe(0);
      const times = (srv: typeof other) =>
        srv
          .stats()
          .requests.filter((q) => q.path.includes('&phr'))
          .map((q) => q.arrival);
      const ta = times(s.server);
      const tb = times(other);
      expect(ta).toHaveLength(24);
      expect(tb).toHaveLength(24);
      expect(busiestWindow(ta)).toBeLessThanOrEqual(11);
      expect(busiestWindow(tb)).toBeLessThanOrEqual(11);
      // Side by side: the second origin began long before the first was done.
      expect(Math.min(...tb)).toBeLessThan(Math.max(...ta) - 1000);
    } finally {
      await other.close();
    }
  });
});
