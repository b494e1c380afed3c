// Fixed runs for the report's tests: URLs taking exactly their stated time on `conc` lanes, as a
// pool of that size would run them, with exact spans and in-flight series (no clock, no network).

import type { RunSummary } from '../../src/measure/stats.js';
import type { BarSpan } from '../../src/render/html-waterfall.js';

export interface FakeRun {
  mode: string;
  n: number;
  conc: number;
  ms: number;
  /** Indexes that fail (HTTP 500) — every `failEvery`th URL; 0 = none. */
  failEvery?: number;
  urls?: (i: number) => string;
  t0?: number;
}

function spansOf(r: FakeRun, t0: number): BarSpan[] {
  const free = new Array<number>(r.conc).fill(0);
  return Array.from({ length: r.n }, (_, index) => {
    const lane = free.indexOf(Math.min(...free));
    // A little spread, fixed by the index, so bars are not all one length.
    const ms = r.ms * (0.8 + ((index * 37) % 10) / 25);
    const start = t0 + free[lane]!;
    free[lane] = free[lane]! + ms;
    const ok = !(r.failEvery && index % r.failEvery === r.failEvery - 1);
    const url = r.urls ? r.urls(index) : `http://127.0.0.1:8080/delay/${Math.round(r.ms)}?i=${index}`;
    return {
      index,
      url,
      start,
      end: start + ms,
      ok,
      status: ok ? 200 : 500,
      code: ok ? null : 'HTTP_STATUS',
      worker: r.mode === 'threads' ? lane + 1 : null,
      bytes: 1234,
      attempts: 1,
    };
  });
}

function series(spans: BarSpan[], t0: number, wall: number): RunSummary['inFlight'] {
  const sliceMs = Math.max(wall / 256, 0.001);
  const values = new Array<number>(Math.ceil(wall / sliceMs)).fill(0);
  for (const s of spans) {
    for (let i = Math.floor((s.start - t0) / sliceMs); i < values.length && i * sliceMs < s.end - t0; i++) {
      const lo = Math.max(s.start - t0, i * sliceMs);
      const hi = Math.min(s.end - t0, (i + 1) * sliceMs);
      if (hi > lo) values[i]! += (hi - lo) / sliceMs;
    }
  }
  return { origin: t0, sliceMs, values };
}

export function fakeRun(r: FakeRun): RunSummary {
  const t0 = r.t0 ?? 1_700_000_000_000;
  const spans = spansOf(r, t0);
  const wall = spans.reduce((m, s) => Math.max(m, s.end), t0) - t0;
  const busy = spans.reduce((a, s) => a + s.end - s.start, 0);
  const failed = spans.filter((s) => !s.ok).length;
  return {
    mode: r.mode,
    startedAt: t0,
    wallMs: wall,
    startupMs: r.mode === 'threads' ? 40 : 0,
    total: r.n,
    ok: r.n - failed,
    failed,
    badInput: 0,
    bytes: r.n * 1234,
    reqPerSec: (r.n * 1000) / wall,
    latency: { min: r.ms * 0.8, p50: r.ms, p95: r.ms * 1.15, max: r.ms * 1.16 },
    achievedConcurrency: busy / wall,
    peakInFlight: Math.min(r.conc, r.n),
    loopStallMs: r.mode === 'inline' ? wall : 2,
    cpu: { selfMs: 50, helpersMs: 0, totalMs: 50 },
    memory: { selfPeakBytes: 80e6, helpersPeakBytes: 0 },
    threads: r.mode === 'threads' ? r.conc + 1 : 1,
    helpers: 0,
    retries: 0,
    interrupted: null,
    notStarted: null,
    spans,
    spansDropped: 0,
    inFlight: series(spans, t0, wall),
  };
}
