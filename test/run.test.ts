// The scheduler's edges, beside scheduler.test.ts (which has the main rules): exact times through a
// fake engine that can report its own, every error code's retry rule, backoffMs and the refusal's
// wording, a record's start when onStart differs or never came, stops around the input (idle,
// closed, read after the stop), the engine's own loop block, an engine or an input that rejects,
// and createEngine. Mostly what mutation testing found the other tests left unchecked.

import { describe, expect, it, vi } from 'vitest';
import { now, sleep } from '../src/core/clock.js';
import type { AttemptResult, Engine, FetchError, Job, RunEvent, UrlRecord } from '../src/core/types.js';
import type { InputItem } from '../src/input.js';
import { createEngine } from '../src/scheduler/engines.js';
import { backoffMs } from '../src/scheduler/retry.js';
import { type RunConfig, type RunParams, runJobs } from '../src/scheduler/run.js';
import { until } from './helpers/wait.js';

/** One scripted attempt: how long it takes, and what it answers. */
interface Step {
  ms?: number;
  status?: number | null;
  error?: FetchError | null;
  retryAfterMs?: number | null;
  bytes?: number;
  /** Report these times instead of the real ones, so a record's times can be asserted exactly. */
  at?: [number, number];
  /** The start the engine reports, when it differs from the attempt's own start. */
  startedAt?: number;
  /** Cancelled before it began: onStart is never called. */
  noStart?: true;
  /** Keep running through a stop (as inline's blocking request does). */
  ignoreAbort?: true;
  /** The error a stopped attempt reports (default ABORTED). */
  abortError?: FetchError;
}

/** Where an attempt went and what answered: not what these tests look at. */
const NOTHING_REACHED = { finalUrl: null, redirects: 0, ttfbMs: null, contentType: null } as const;

/** An engine whose URLs answer from a script (by URL, one step per attempt; the last repeats). */
class FakeEngine implements Engine {
  readonly mode = 'async' as const;
  inFlight = 0;
  peak = 0;
  peakPerHost = new Map<string, number>();
  private perHost = new Map<string, number>();
  readonly calls: { url: string; t: number }[] = [];
  private readonly attempts = new Map<string, number>();

  constructor(private readonly script: Record<string, Step[]>) {}

  async init() {
    return { startupMs: 0, threads: 1 };
  }

  async fetch(job: Job, signal: AbortSignal, onStart: (t: number, worker: number | null) => void): Promise<AttemptResult> {
    const n = this.attempts.get(job.url) ?? 0;
    this.attempts.set(job.url, n + 1);
    const steps = this.script[job.url] ?? [{}];
    const step = steps[Math.min(n, steps.length - 1)]!;
    const host = new URL(job.url).host;
    const start = step.at?.[0] ?? now();
    this.calls.push({ url: job.url, t: now() });
    if (!step.noStart) onStart(step.startedAt ?? start, 7);
    this.inFlight++;
    this.peak = Math.max(this.peak, this.inFlight);
    this.perHost.set(host, (this.perHost.get(host) ?? 0) + 1);
    this.peakPerHost.set(host, Math.max(this.peakPerHost.get(host) ?? 0, this.perHost.get(host)!));
    await sleep(step.ms ?? 1, step.ignoreAbort ? undefined : signal);
    this.inFlight--;
    this.perHost.set(host, this.perHost.get(host)! - 1);
    const end = step.at?.[1] ?? now();
    if (signal.aborted) {
      return {
        status: null,
        bytes: 0,
        start,
        end,
        worker: 7,
        error: step.abortError ?? { code: 'ABORTED', message: 'cancelled' },
        file: null,
        retryAfterMs: null,
        ...NOTHING_REACHED,
      };
    }
    const status = step.status === undefined ? 200 : step.status;
    const error =
      step.error !== undefined ? step.error : status !== null && status >= 400 ? { code: 'HTTP_STATUS', message: String(status) } : null;
    return {
      status,
      bytes: step.bytes ?? 10,
      start,
      end,
      worker: 7,
      error,
      file: null,
      retryAfterMs: step.retryAfterMs ?? null,
      ...NOTHING_REACHED,
    };
  }

  helperPids() {
    return [];
  }

  blockMs = 0;
  longestBlockMs() {
    return this.blockMs;
  }

  async close() {}
}

const config = (extra: Partial<RunConfig> = {}): RunConfig => ({
  mode: 'async',
  concurrency: 10,
  perHost: null,
  retries: 0,
  retryMaxWaitMs: 0,
  request: {
    method: 'GET',
    headers: [],
    userAgent: 'x',
    timeoutMs: 1000,
    maxRedirects: 5,
    maxSize: 1000,
    outputDir: null,
    saveClaims: null,
    body: null,
    proxy: { proxy: null, noProxy: true, env: {} },
    insecure: false,
    cacert: null,
  },
  ...extra,
});

async function* items(list: (string | InputItem)[]): AsyncGenerator<InputItem> {
  let index = 0;
  for (const x of list) {
    if (typeof x === 'string') yield { kind: 'job', job: { index: index++, url: x } };
    else {
      index++;
      yield x;
    }
  }
}

/** runJobs with no sink, for a test that looks only at the summary or the engine. */
const runBare = (input: AsyncIterable<InputItem>, engine: Engine, cfg: RunConfig, signal: AbortSignal) =>
  runJobs({ items: input, engine, config: cfg, sinks: [], signal, setup: { startupMs: 0, threads: 1 } } satisfies RunParams);

async function go(list: (string | InputItem)[], engine: FakeEngine, cfg: RunConfig, signal = new AbortController().signal) {
  const events: RunEvent[] = [];
  const summary = await runJobs({
    items: items(list),
    engine,
    config: cfg,
    sinks: [{ onEvent: (e) => events.push(e) }],
    signal,
    setup: { startupMs: 3, threads: 1 },
  });
  const records = events.filter((e): e is Exclude<RunEvent, { kind: 'start' }> => e.kind !== 'start').map((e) => e.record);
  return { events, summary, records: records.sort((a, b) => a.index - b.index) };
}

describe('records', () => {
  it('one attempt: every field from the job and the attempt', async () => {
    const engine = new FakeEngine({ 'http://a/1': [{ at: [1000, 1250.5], bytes: 42 }] });
    const { events, records, summary } = await go(['http://a/1'], engine, config());
    expect(events[0]).toEqual({ kind: 'start', index: 0, url: 'http://a/1', t: 1000, worker: 7, attempt: 1 });
    expect(events[1]!.kind).toBe('done');
    expect(records).toEqual<UrlRecord[]>([
      {
        index: 0,
        url: 'http://a/1',
        mode: 'async',
        ok: true,
        status: 200,
        bytes: 42,
        start: 1000,
        end: 1250.5,
        ms: 250.5,
        attempts: 1,
        worker: 7,
        error: null,
        file: null,
        ...NOTHING_REACHED,
        workMs: null,
      },
    ]);
    expect(summary).toMatchObject({
      total: 1,
      ok: 1,
      failed: 0,
      bytes: 42,
      retries: 0,
      startupMs: 3,
      threads: 1,
      helpers: 0,
      interrupted: null,
    });
  });

  it('a retried URL: from the first attempt’s start to the last one’s end, the last outcome', async () => {
    const engine = new FakeEngine({
      'http://a/1': [
        { at: [1000, 1100], status: 503 },
        { at: [1200, 1300], status: 502 },
        { at: [1400, 1450], status: 200, bytes: 5 },
      ],
    });
    const { events, records, summary } = await go(['http://a/1'], engine, config({ retries: 3 }));
    expect(records[0]).toMatchObject({ ok: true, status: 200, bytes: 5, start: 1000, end: 1450, ms: 450, attempts: 3, error: null });
    expect(events.filter((e) => e.kind === 'start').map((e) => (e as { attempt: number }).attempt)).toEqual([1, 2, 3]);
    expect(events.map((e) => e.kind)).toEqual(['start', 'start', 'start', 'done']);
    expect(summary.retries).toBe(2);
    expect(summary.latency).toMatchObject({ min: 450, max: 450 });
  });

  it.each([
    ['HTTP 429', { status: 429 }, true],
    ['HTTP 500', { status: 500 }, true],
    ['HTTP 599', { status: 599 }, true],
    ['HTTP 499', { status: 499 }, false],
    ['HTTP 404', { status: 404 }, false],
    ['a 503 failed on size, not status', { status: 503, error: { code: 'SIZE_LIMIT', message: 'x' } }, false],
    ...[
      'TIMEOUT',
      'SOCKET_CLOSED',
      'PROTOCOL_ERROR',
      'ECONNREFUSED',
      'ECONNRESET',
      'EAI_AGAIN',
      'ETIMEDOUT',
      'EHOSTUNREACH',
      'ENETUNREACH',
      'EPIPE',
      'ECONNABORTED',
      'REQUEST_FAILED',
    ].map((code) => [code, { status: null, error: { code, message: 'x' } }, true] as const),
    ...['SIZE_LIMIT', 'TOO_MANY_REDIRECTS', 'REDIRECT_LOOP', 'BAD_REDIRECT', 'WRITE_FAILED', 'ENOTFOUND', 'WORKER_CRASH'].map(
      (code) => [code, { status: null, error: { code, message: 'x' } }, false] as const,
    ),
  ] as [string, Step, boolean][])('%s is retried: %s', async (_, step, retried) => {
    const engine = new FakeEngine({ 'http://a/1': [step] });
    const { records } = await go(['http://a/1'], engine, config({ retries: 1, retryMaxWaitMs: 0 }));
    expect(records[0]!.attempts).toBe(retried ? 2 : 1);
  });
});

describe('Retry-After', () => {
  it.each([
    [5000, 1000, 'Retry-After 5 s), longer than --retry-max-wait 1 s'],
    [1500, 999, 'Retry-After 1.5 s), longer than --retry-max-wait 999 ms'],
    [250, 100, 'Retry-After 250 ms), longer than --retry-max-wait 100 ms'],
  ])('fails at once when it asks %i ms, over the limit of %i, saying so', async (ask, limit, text) => {
    const engine = new FakeEngine({ 'http://a/1': [{ status: 503, retryAfterMs: ask }, { status: 200 }] });
    const { records } = await go(['http://a/1'], engine, config({ retries: 3, retryMaxWaitMs: limit }));
    expect(records[0]).toMatchObject({ ok: false, status: 503, attempts: 1 });
    expect(records[0]!.error).toEqual({ code: 'HTTP_STATUS', message: `503: the server asked to wait (${text}` });
  });

  it('backoffMs: exponential with jitter, capped, or the longer Retry-After', () => {
    expect([1, 2, 3, 4].map((a) => backoffMs(a, null, 10_000, () => 1))).toEqual([100, 200, 400, 800]);
    expect(backoffMs(2, null, 10_000, () => 0)).toBe(100);
    expect(backoffMs(2, null, 10_000, () => 0.5)).toBe(150);
    expect(backoffMs(30, null, 60_000, () => 1)).toBe(10_000);
    expect(backoffMs(3, null, 250, () => 1)).toBe(250);
    expect(backoffMs(1, 300, 1000, () => 1)).toBe(300);
    expect(backoffMs(3, 300, 1000, () => 1)).toBe(400);
    expect(backoffMs(1, 1000, 1000, () => 1)).toBe(1000);
    expect(backoffMs(1, 1001, 1000, () => 1)).toBeNull();
  });
});

describe('bad lines', () => {
  it('have no latency: a bad line adds no span, and no start event', async () => {
    const badItem: InputItem = { kind: 'bad', index: 1, where: 'list.txt:2', text: 'junk', reason: 'not a URL' };
    const { summary, events } = await go(['http://a/0', badItem, 'http://a/2'], new FakeEngine({}), config());
    expect(events.filter((e) => e.kind === 'start')).toHaveLength(2);
    expect(summary.spans.map((s) => s.index).sort()).toEqual([0, 2]);
  });
});

describe('a failing input', () => {
  it('an input that fails rejects the run', async () => {
    async function* broken(): AsyncGenerator<InputItem> {
      yield { kind: 'job', job: { index: 0, url: 'http://a/0' } };
      throw new Error('EIO');
    }
    const engine = new FakeEngine({});
    await expect(runBare(broken(), engine, config(), new AbortController().signal)).rejects.toThrow('EIO');
  });
});

describe('the scheduler’s edges', () => {
  it('a record starts when its first attempt really started, or at the attempt when it never did', async () => {
    const engine = new FakeEngine({
      'http://a/1': [{ at: [1000, 1100], startedAt: 1005 }],
      'http://a/2': [{ at: [2000, 2001], noStart: true, status: null, error: { code: 'ABORTED', message: 'cancelled' } }],
    });
    const { records, summary } = await go(['http://a/1', 'http://a/2'], engine, config());
    expect(records[0]).toMatchObject({ start: 1005, end: 1100, ms: 95, attempts: 1 });
    expect(records[1]).toMatchObject({ start: 2000, end: 2001, ms: 1, attempts: 0 });
    expect(summary.peakInFlight).toBe(1);
  });

  it('an attempt that never started was never in flight', async () => {
    const engine = new FakeEngine({ 'http://a/1': [{ noStart: true, status: null, error: { code: 'ABORTED', message: 'cancelled' } }] });
    const { summary } = await go(['http://a/1'], engine, config());
    expect(summary.achievedConcurrency).toBeLessThan(1);
    expect(summary.peakInFlight).toBe(0);
  });

  it('a 5xx the engine did not call an error is a success, not a retry', async () => {
    const engine = new FakeEngine({ 'http://a/1': [{ status: 503, error: null }] });
    expect((await go(['http://a/1'], engine, config({ retries: 2 }))).records[0]).toMatchObject({ ok: true, status: 503, attempts: 1 });
  });

  it('a stop ends a URL at its attempt’s end even when that attempt failed in a retryable way', async () => {
    const engine = new FakeEngine({ 'http://a/1': [{ ms: 60_000, at: [1000, 1100], abortError: { code: 'TIMEOUT', message: 't' } }] });
    const ctl = new AbortController();
    const running = go(['http://a/1'], engine, config({ retries: 3 }), ctl.signal);
    await until(() => engine.calls.length === 1, 'the attempt under way');
    ctl.abort('SIGINT');
    const { records } = await running;
    expect(records[0]).toMatchObject({ attempts: 1, end: 1100, error: { code: 'TIMEOUT' } });
    expect(engine.calls).toHaveLength(1);
  });

  it('reads on past the -c × 4 jobs it holds back, and finishes the list', async () => {
    const list = Array.from({ length: 30 }, (_, i) => `http://a/${i}`);
    const engine = new FakeEngine({});
    const { records } = await go(list, engine, config({ concurrency: 2, perHost: 1 }));
    expect(records).toHaveLength(30);
    expect(engine.peak).toBe(1);
  });

  it('asks its input for one item at a time', async () => {
    let outstanding = 0;
    let most = 0;
    let i = 0;
    const input: AsyncIterable<InputItem> = {
      [Symbol.asyncIterator]: () => ({
        async next(): Promise<IteratorResult<InputItem>> {
          outstanding++;
          most = Math.max(most, outstanding);
          await sleep(2);
          outstanding--;
          if (i >= 12) return { done: true, value: undefined };
          const index = i++;
          return { done: false, value: { kind: 'job', job: { index, url: `http://h${index % 3}/${index}` } } };
        },
      }),
    };
    const engine = new FakeEngine({});
    const events: RunEvent[] = [];
    await runJobs({
      items: input,
      engine,
      config: config({ concurrency: 4, perHost: 1 }),
      sinks: [{ onEvent: (e) => events.push(e) }],
      signal: new AbortController().signal,
      setup: { startupMs: 0, threads: 1 },
    });
    expect(events.filter((e) => e.kind === 'done')).toHaveLength(12);
    expect(most).toBe(1);
  });

  it('a stop while the input is idle ends the run at once', async () => {
    async function* idle(): AsyncGenerator<InputItem> {
      yield { kind: 'job', job: { index: 0, url: 'http://a/0' } };
      await new Promise(() => {});
    }
    const ctl = new AbortController();
    const engine = new FakeEngine({ 'http://a/0': [{ ms: 1 }] });
    const running = runBare(idle(), engine, config(), ctl.signal);
    // a/0 done and nothing in flight: the run waits on its input alone.
    await until(() => engine.calls.length === 1 && engine.inFlight === 0, 'a/0 done, the input idle');
    ctl.abort('SIGTERM');
    expect(await running).toMatchObject({ total: 1, interrupted: 'SIGTERM', notStarted: { count: 0, more: true } });
  });

  it('closes its input at a stop', async () => {
    let closed = false;
    async function* list(): AsyncGenerator<InputItem> {
      try {
        for (let index = 0; ; index++) yield { kind: 'job', job: { index, url: `http://a/${index}` } };
      } finally {
        closed = true;
      }
    }
    const ctl = new AbortController();
    const engine = new FakeEngine({ 'http://a/0': [{ ms: 60_000 }] });
    const running = runBare(list(), engine, config({ concurrency: 1 }), ctl.signal);
    await until(() => engine.calls.length === 1, 'a/0 under way');
    ctl.abort('SIGINT');
    await running;
    await until(() => closed, 'the input closed');
  });

  it('an input without return() is left alone at a stop', async () => {
    const input: AsyncIterable<InputItem> = {
      [Symbol.asyncIterator]: () => ({
        next: async (): Promise<IteratorResult<InputItem>> => ({
          done: false,
          value: { kind: 'job', job: { index: 0, url: 'http://a/0' } },
        }),
      }),
    };
    const ctl = new AbortController();
    const engine = new FakeEngine({ 'http://a/0': [{ ms: 60_000 }] });
    const running = runBare(input, engine, config({ concurrency: 1 }), ctl.signal);
    await until(() => engine.calls.length === 1, 'a/0 under way');
    ctl.abort('SIGINT');
    await expect(running).resolves.toMatchObject({ interrupted: 'SIGINT' });
  });

  it('counts an item read after the stop as not started, and never starts it', async () => {
    // The second item comes only once the stop is made: read after it, whatever the load.
    let stopped!: () => void;
    const afterStop = new Promise<void>((resolve) => {
      stopped = resolve;
    });
    async function* late(): AsyncGenerator<InputItem> {
      yield { kind: 'job', job: { index: 0, url: 'http://a/0' } };
      await afterStop;
      yield { kind: 'job', job: { index: 1, url: 'http://a/1' } };
    }
    // The first request runs through the stop (as inline's does), so the second item arrives meanwhile.
    const engine = new FakeEngine({ 'http://a/0': [{ ms: 150, ignoreAbort: true }] });
    const ctl = new AbortController();
    const running = runBare(late(), engine, config({ concurrency: 2 }), ctl.signal);
    await until(() => engine.calls.length === 1, 'a/0 under way');
    ctl.abort('SIGINT');
    stopped();
    const summary = await running;
    expect(engine.calls.map((c) => c.url)).toEqual(['http://a/0']);
    expect(summary.notStarted).toEqual({ count: 1, more: true });
  });

  it('reports the longest time the engine itself blocked the loop', async () => {
    const engine = new FakeEngine({});
    engine.blockMs = 5000;
    expect((await go(['http://a/0'], engine, config())).summary.loopStallMs).toBe(5000);
  });

  it('an engine that rejects (it must not) rejects the run rather than hang', async () => {
    const engine = new FakeEngine({});
    engine.fetch = () => Promise.reject(new Error('engine bug'));
    await expect(go(['http://a/0'], engine, config())).rejects.toThrow('engine bug');
  });

  it.each(['async', 'threads', 'inline'] as const)('createEngine gives a %s engine, unstarted', async (mode) => {
    const engine = await createEngine(config({ mode }));
    expect(engine.mode).toBe(mode);
    expect(engine.helperPids()).toEqual([]);
    await engine.close();
  });
});

describe('the scheduler’s last details', () => {
  it('does not wait again after the last attempt', async () => {
    // On fake timers, moved 1 ms at a time until the run ends: its length is counted, not timed.
    vi.useFakeTimers({ now: 0 });
    try {
      const engine = new FakeEngine({ 'http://a/1': [{ status: 503, retryAfterMs: 400 }] });
      let settled = false;
      const running = go(['http://a/1'], engine, config({ retries: 1, retryMaxWaitMs: 1000 })).finally(() => {
        settled = true;
      });
      while (!settled) await vi.advanceTimersByTimeAsync(1);
      const { records } = await running;
      expect(records[0]).toMatchObject({ attempts: 2, status: 503 });
      // Two 1 ms attempts and the one 400 ms Retry-After wait between them; another wait after
      // the last attempt would add 400 more.
      expect(Date.now()).toBeGreaterThanOrEqual(400);
      expect(Date.now()).toBeLessThan(2 * 400);
    } finally {
      vi.useRealTimers();
    }
  });

  it('takes an engine that keeps no account of blocking the loop', async () => {
    const engine = new FakeEngine({});
    Object.assign(engine, { longestBlockMs: undefined });
    const { summary } = await go(['http://a/0'], engine, config());
    expect(Number.isFinite(summary.loopStallMs)).toBe(true);
  });
});
