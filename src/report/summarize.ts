// A run's summary rebuilt from its saved records: what the records hold is computed exactly (every
// span, percentiles by rank); what they cannot hold (CPU, memory, loop stall, threads) is NaN and
// listed as unknown, never invented.

import { Latencies, type RunSummary, wallTime } from '../measure/stats.js';
import { barOf } from '../render/html-waterfall.js';
import type { Figure } from '../render/known.js';
import type { SavedRecord } from './records.js';

/** What records cannot tell: the report says "unknown" for these. */
export const UNKNOWN_FROM_RECORDS: readonly Figure[] = ['loopStall', 'cpu', 'memory', 'threads'];

const SLICES = 512;
/** Records time to the ms: slices finer than a few ms would draw that rounding as spikes. */
const MIN_SLICE_MS = 5;

/** The value at rank ⌈p·n⌉ of sorted values (nearest rank). */
export function percentile(sorted: number[], p: number): number {
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** Most at once; an end and a start at the same instant do not overlap (ISO times are whole ms). */
export function peakInFlight(spans: { start: number; end: number }[]): number {
  const starts = spans.map((s) => s.start).sort((a, b) => a - b);
  const ends = spans.map((s) => s.end).sort((a, b) => a - b);
  let peak = 0;
  let open = 0;
  let j = 0;
  for (const t of starts) {
    while (j < ends.length && ends[j]! <= t) {
      j++;
      open--;
    }
    open++;
    peak = Math.max(peak, open);
  }
  return peak;
}

/** Average in flight per slice over the run, as the live meter's series. */
export function inFlightSeries(spans: { start: number; end: number }[], t0: number, wallMs: number): RunSummary['inFlight'] {
  const sliceMs = Math.max(wallMs / SLICES, MIN_SLICE_MS);
  const n = Math.max(1, Math.min(SLICES, Math.ceil(wallMs / sliceMs)));
  const sums = new Float64Array(n);
  const failed = new Array<number>(n).fill(0);
  for (const s of spans) {
    if ((s as { ok?: boolean }).ok === false) failed[Math.min(n - 1, Math.max(0, Math.floor((s.end - t0) / sliceMs)))]!++;
    const a = s.start - t0;
    const b = s.end - t0;
    for (let i = Math.max(0, Math.floor(a / sliceMs)); i < n && i * sliceMs < b; i++) {
      const hi = Math.min(b, (i + 1) * sliceMs);
      const lo = Math.max(a, i * sliceMs);
      if (hi > lo) sums[i]! += hi - lo;
    }
  }
  return { origin: t0, sliceMs, values: Array.from(sums, (v) => v / sliceMs), failed };
}

/** The live summary's own statistic (measure/stats.ts), so the same records give the same figures. */
function latency(requested: SavedRecord[]): RunSummary['latency'] {
  const l = new Latencies();
  for (const r of requested) l.add(r.ms);
  return l.summary();
}

/** One mode's records (one per URL) as a summary; wall runs from the first start to the last end. */
export function summarizeRecords(mode: string, records: SavedRecord[]): RunSummary {
  // As the live meter: a URL never requested (a bad input line) has no time, no bar, no latency.
  const requested = records.filter((r) => r.attempts > 0).sort((a, b) => a.index - b.index);
  const t0 = requested.reduce((m, r) => Math.min(m, r.start), Number.POSITIVE_INFINITY);
  const t1 = requested.reduce((m, r) => Math.max(m, r.end), Number.NEGATIVE_INFINITY);
  const startedAt = requested.length > 0 ? t0 : 0;
  const wallMs = requested.length > 0 ? wallTime(t0, t1) : 0;
  const busy = requested.reduce((a, r) => a + (r.end - r.start), 0);
  const ok = records.filter((r) => r.ok).length;
  return {
    mode,
    startedAt,
    wallMs,
    startupMs: Number.NaN,
    total: records.length,
    ok,
    failed: records.length - ok,
    badInput: records.filter((r) => r.error?.code === 'BAD_INPUT').length,
    bytes: requested.reduce((a, r) => a + r.bytes, 0),
    reqPerSec: wallMs > 0 ? (requested.length * 1000) / wallMs : 0,
    latency: latency(requested),
    // Retry waits are inside a record's span, so this can read a little high for a run with retries.
    achievedConcurrency: wallMs > 0 ? busy / wallMs : 0,
    peakInFlight: peakInFlight(requested),
    loopStallMs: Number.NaN,
    cpu: { selfMs: Number.NaN, helpersMs: Number.NaN, totalMs: Number.NaN },
    memory: { selfPeakBytes: Number.NaN, helpersPeakBytes: Number.NaN },
    threads: Number.NaN,
    helpers: Number.NaN,
    retries: requested.reduce((a, r) => a + r.attempts - 1, 0),
    interrupted: null,
    notStarted: null,
    spans: requested.map(barOf),
    spansDropped: 0,
    inFlight: inFlightSeries(requested, startedAt, wallMs),
  };
}
