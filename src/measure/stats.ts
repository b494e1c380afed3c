// What a run measures about itself: latency percentiles (one fixed-size histogram, shared with the
// summary rebuilt from records, as is the definition of wall time), in-flight
// counts, loop stalls, CPU and memory of the process and its helpers, and the bounded data the
// timeline is drawn from. Nothing here grows with the length of the list.

import { type IntervalHistogram, monitorEventLoopDelay } from 'node:perf_hooks';
import { now } from '../core/clock.js';
import { type FailCounts, failClass } from '../core/errors.js';
import type { UrlRecord } from '../core/types.js';
import { procCpuMs, procPeakRss, procSysMs, reapedChildrenCpuMs, reapedChildrenSysMs } from './procs.js';

/** One bar of the waterfall. */
export interface Span {
  index: number;
  url: string;
  start: number;
  end: number;
  ok: boolean;
  status: number | null;
  code: string | null;
  worker: number | null;
}

/** Average requests in flight per time slice, over a fixed number of slices. */
export interface InFlightSeries {
  origin: number;
  sliceMs: number;
  /** Average number in flight during each slice. */
  values: number[];
  /** Requests that failed, by the slice they ended in (same length as `values`): the long-run chart's failure band. */
  failed?: number[];
  /**
   * Average failed requests in flight per slice (same length as `values`): where each failure was,
   * from its start to its end. The HTML report's failure band, where its bars are only a sample.
   */
  failing?: number[];
}

export interface RunSummary {
  mode: string;
  startedAt: number;
  wallMs: number;
  startupMs: number;
  /** How long closing the engine took (threads and helpers stopped); set after the run by run-mode. */
  shutdownMs?: number;
  total: number;
  ok: number;
  failed: number;
  /** The failed URLs by class, for `--fail-on` (a summary rebuilt from saved records may lack it). */
  failedBy?: FailCounts;
  badInput: number;
  bytes: number;
  reqPerSec: number;
  latency: { min: number; p50: number; p95: number; max: number } | null;
  achievedConcurrency: number;
  peakInFlight: number;
  loopStallMs: number;
  /** `systemMs`: the sys part of `totalMs` (compare's csv export splits user from sys, as hyperfine). */
  cpu: { selfMs: number; helpersMs: number; totalMs: number; systemMs?: number };
  memory: { selfPeakBytes: number; helpersPeakBytes: number };
  threads: number;
  helpers: number;
  retries: number;
  interrupted: string | null;
  /**
   * After a stop: URLs given but never started (they have no record, so `total` leaves them out);
   * `more` when input was left unread, so there may be more than `count`.
   */
  notStarted?: { count: number; more: boolean } | null;
  spans: Span[];
  spansDropped: number;
  /** When `spans` is every Nth URL by index (a summary rebuilt from many records): N. Else the first ones were kept. */
  spansEvery?: number;
  inFlight: InFlightSeries;
}

/** A latency to 0.1 ms, as a record writes its `ms`: the live summary and one rebuilt from records read the same values. */
export const roundMs = (ms: number): number => Math.round(ms * 10) / 10;

/**
 * The one wall time of a run, live and from records: from its first request's start to its last
 * one's end, on the whole-ms grid a record's ISO `start` and `end` are written on (0 when nothing
 * was requested). Time before the first request or after the last is not the fetch.
 */
export function wallTime(firstStart: number, lastEnd: number): number {
  return lastEnd >= firstStart ? Math.max(0, Math.round(lastEnd) - Math.round(firstStart)) : 0;
}

/** Exact below 2048 units (204.7 ms); above, 1024 buckets per doubling (within 0.1 %). */
const SUB = 1024;
/** Up to 2^40 units of 0.1 ms (3.5 years): anything longer is counted there. */
const TOP_EXP = 30;

/** Bucket of an integer count of 0.1 ms. */
function bucketOf(v: number): number {
  if (v < 2 * SUB) return v;
  let e = Math.floor(Math.log2(v)) - 10;
  if (2 ** (e + 10) > v) e--;
  e = Math.min(e, TOP_EXP);
  return e * SUB + Math.min(2 * SUB - 1, Math.floor(v / 2 ** e));
}

/** The middle of a bucket, in units. */
function bucketValue(b: number): number {
  if (b < 2 * SUB) return b;
  const e = Math.floor(b / SUB) - 1;
  return (b - e * SUB) * 2 ** e + (2 ** e - 1) / 2;
}

/**
 * The one latency statistic, live and from records: a log-linear histogram of 0.1 ms units with
 * nearest-rank percentiles (the value at rank ⌈p·n⌉), clamped to the exact min and max. Fixed size
 * whatever the count; a value can be taken out again (a record replaced by a rerun's).
 */
export class Latencies {
  private readonly counts = new Float64Array((TOP_EXP + 2) * SUB);
  private n = 0;
  private lo = Number.POSITIVE_INFINITY;
  private hi = Number.NEGATIVE_INFINITY;

  get count(): number {
    return this.n;
  }

  add(ms: number): void {
    const v = Math.max(0, Math.round(ms * 10));
    this.counts[bucketOf(v)]!++;
    this.n++;
    if (v < this.lo) this.lo = v;
    if (v > this.hi) this.hi = v;
  }

  remove(ms: number): void {
    const v = Math.max(0, Math.round(ms * 10));
    const b = bucketOf(v);
    if (!(this.counts[b]! > 0)) return;
    this.counts[b]!--;
    this.n--;
    if (this.n === 0) {
      this.lo = Number.POSITIVE_INFINITY;
      this.hi = Number.NEGATIVE_INFINITY;
    } else if (v === this.lo || v === this.hi) {
      // The extreme left: the nearest bucket still holding a value (exact below 204.8 ms).
      this.lo = Math.max(this.lo, bucketValue(this.counts.findIndex((c) => c > 0)));
      let top = this.counts.length - 1;
      while (top > 0 && !(this.counts[top]! > 0)) top--;
      this.hi = Math.min(this.hi, bucketValue(top));
    }
  }

  private at(p: number): number {
    const rank = Math.max(1, Math.ceil((p / 100) * this.n));
    let seen = 0;
    for (let b = 0; b < this.counts.length; b++) {
      seen += this.counts[b]!;
      if (seen >= rank) return Math.min(this.hi, Math.max(this.lo, bucketValue(b)));
    }
    return this.hi;
  }

  /** min, p50, p95 and max in ms; null when nothing was recorded. */
  summary(): RunSummary['latency'] {
    if (this.n === 0) return null;
    return { min: this.lo / 10, p50: this.at(50) / 10, p95: this.at(95) / 10, max: this.hi / 10 };
  }
}

/** The waterfall keeps this many bars; beyond it the in-flight chart is drawn instead. */
export const MAX_SPANS = 1000;
const SLICES = 512;

export class RunMeter {
  readonly startedAt = now();
  private readonly latencies = new Latencies();
  private readonly loop = new LoopStall();
  // Sampled, not the process's lifetime maxRSS: a comparison runs several modes in one process,
  // and each must be charged only its own peak.
  private rssPeak = readRss() ?? 0;
  private readonly rssTimer = setInterval(() => this.sampleRss(), 50);
  private readonly cpu0 = process.cpuUsage();
  private readonly children0 = reapedChildrenCpuMs();
  private readonly childrenSys0 = reapedChildrenSysMs();
  private helpersSys0 = 0;
  private helpers0 = 0;
  private inflight = 0;
  private peak = 0;
  private busyTenths = 0;
  private firstStart = Number.POSITIVE_INFINITY;
  private lastEnd = Number.NEGATIVE_INFINITY;
  /** Every helper seen during the run: one gone by the end died in it, and its CPU is among the reaped. */
  private readonly helpersSeen = new Set<number>();
  private count = 0;
  private okCount = 0;
  private failCount = 0;
  private readonly failedBy: FailCounts = { error: 0, '4xx': 0, '5xx': 0 };
  private bad = 0;
  private bytes = 0;
  private retries = 0;
  private readonly spans: Span[] = [];
  private dropped = 0;
  private sliceMs = 5;
  private readonly slices = new Float64Array(SLICES);
  private readonly failSlices = new Float64Array(SLICES);

  constructor(
    readonly mode: string,
    private readonly helperPids: () => number[],
  ) {
    const pids = helperPids();
    this.helpers0 = pids.reduce((s, p) => s + procCpuMs(p), 0);
    this.helpersSys0 = pids.reduce((s, p) => s + procSysMs(p), 0);
    for (const p of pids) this.helpersSeen.add(p);
    this.rssTimer.unref();
  }

  /** A sample that cannot be taken (EMFILE: libuv opens /proc/self/stat for it) keeps the peak so far: a measurement never ends a run. */
  private sampleRss(): void {
    const rss = readRss();
    if (rss !== null && rss > this.rssPeak) this.rssPeak = rss;
  }

  attemptStarted(attempt: number): void {
    this.inflight++;
    if (this.inflight > this.peak) this.peak = this.inflight;
    if (attempt > 1) this.retries++;
  }

  attemptEnded(start: number, end: number): void {
    this.inflight--;
    this.addSlices(start, end);
  }

  record(r: UrlRecord): void {
    if (r.ok) this.okCount++;
    else {
      this.failCount++;
      this.failedBy[failClass(r)]++;
    }
    if (r.error?.code === 'BAD_INPUT') this.bad++;
    // Only URLs that were really requested have a latency (not bad lines, not ones cancelled first).
    if (r.attempts === 0) return;
    for (const p of this.helperPids()) this.helpersSeen.add(p);
    this.count++;
    this.bytes += r.bytes;
    // Achieved concurrency counts each URL's whole span, retry waits included, as its latency does:
    // the records hold no more than that, and `fetchall report` must find the same figure in them.
    // In whole 0.1 ms, as the record's ms is written: the report sums the same integers, in any order.
    this.busyTenths += Math.round(r.ms * 10);
    // As a record writes it (ms to 0.1), so a summary rebuilt from the records reads the same values.
    this.latencies.add(roundMs(r.ms));
    if (r.start < this.firstStart) this.firstStart = r.start;
    if (r.end > this.lastEnd) this.lastEnd = r.end;
    if (!r.ok) {
      this.grow(r.end);
      this.failSlices[Math.min(SLICES - 1, Math.floor(Math.max(0, r.end - this.startedAt) / this.sliceMs))]!++;
    }
    if (this.spans.length < MAX_SPANS) {
      this.spans.push({
        index: r.index,
        url: r.url.length > 200 ? r.url.slice(0, 200) : r.url,
        start: r.start,
        end: r.end,
        ok: r.ok,
        status: r.status,
        code: r.error?.code ?? null,
        worker: r.worker,
      });
    } else this.dropped++;
  }

  /** Double the slice width until `end` fits: bounded memory however long the run. */
  private grow(end: number): void {
    while (end - this.startedAt > this.sliceMs * SLICES) {
      for (const a of [this.slices, this.failSlices]) {
        for (let i = 0; i < SLICES / 2; i++) a[i] = a[2 * i]! + a[2 * i + 1]!;
        a.fill(0, SLICES / 2);
      }
      this.sliceMs *= 2;
    }
  }

  /** Spread one attempt's time over the slices. */
  private addSlices(start: number, end: number): void {
    const t0 = this.startedAt;
    this.grow(end);
    const w = this.sliceMs;
    const a = Math.max(0, start - t0);
    const b = Math.max(a, end - t0);
    const first = Math.floor(a / w);
    const last = Math.min(SLICES - 1, Math.floor(b / w));
    for (let i = first; i <= last; i++) {
      const lo = Math.max(a, i * w);
      const hi = Math.min(b, (i + 1) * w);
      if (hi > lo) this.slices[i]! += hi - lo;
    }
  }

  /**
   * CPU since the run began: this process, and its own helpers — live ones from /proc, and reaped
   * ones from our stat only when one of this run's helpers died during it. The reaped figure is
   * process-wide: without that rule a mode with no helper (async) would be charged the helpers of
   * the mode before it (compare), reaped while it ran.
   */
  private cpuSince(pids: number[]): RunSummary['cpu'] {
    const own = process.cpuUsage(this.cpu0);
    const selfMs = (own.user + own.system) / 1000;
    const died = [...this.helpersSeen].some((p) => !pids.includes(p));
    const reaped = died ? reapedChildrenCpuMs() - this.children0 : 0;
    const reapedSys = died ? reapedChildrenSysMs() - this.childrenSys0 : 0;
    const helpersMs = Math.max(0, pids.reduce((s, p) => s + procCpuMs(p), 0) - this.helpers0 + reaped);
    const helpersSys = pids.reduce((s, p) => s + procSysMs(p), 0) - this.helpersSys0 + reapedSys;
    const systemMs = own.system / 1000 + Math.min(helpersMs, Math.max(0, helpersSys));
    return { selfMs, helpersMs, totalMs: selfMs + helpersMs, systemMs };
  }

  finish(opts: {
    startupMs: number;
    threads: number;
    helpers: number;
    interrupted: string | null;
    notStarted: RunSummary['notStarted'];
    blockedMs: number;
  }): RunSummary {
    const end = now();
    const loopStallMs = this.loop.stop();
    this.sampleRss();
    clearInterval(this.rssTimer);
    const requested = this.count > 0;
    const wallMs = requested ? wallTime(this.firstStart, this.lastEnd) : 0;
    const pids = this.helperPids();
    for (const p of pids) this.helpersSeen.add(p);
    const cpu = this.cpuSince(pids);
    const used = Math.min(SLICES, Math.max(1, Math.ceil((end - this.startedAt) / this.sliceMs)));
    return {
      mode: this.mode,
      // The fetch starts at its first request (as the records say), not when the meter was made.
      startedAt: requested ? Math.round(this.firstStart) : this.startedAt,
      wallMs,
      startupMs: opts.startupMs,
      total: this.okCount + this.failCount,
      ok: this.okCount,
      failed: this.failCount,
      failedBy: { ...this.failedBy },
      badInput: this.bad,
      bytes: this.bytes,
      reqPerSec: wallMs > 0 ? (this.count * 1000) / wallMs : 0,
      latency: this.latencies.summary(),
      achievedConcurrency: wallMs > 0 ? this.busyTenths / 10 / wallMs : 0,
      peakInFlight: this.peak,
      loopStallMs: Math.max(loopStallMs, opts.blockedMs),
      cpu,
      memory: {
        selfPeakBytes: this.rssPeak,
        helpersPeakBytes: pids.reduce((s, p) => s + procPeakRss(p), 0),
      },
      threads: opts.threads,
      helpers: opts.helpers,
      retries: this.retries,
      interrupted: opts.interrupted,
      notStarted: opts.notStarted,
      spans: this.spans,
      spansDropped: this.dropped,
      inFlight: {
        origin: this.startedAt,
        sliceMs: this.sliceMs,
        values: Array.from(this.slices.subarray(0, used), (v) => v / this.sliceMs),
        failed: Array.from(this.failSlices.subarray(0, used)),
      },
    };
  }
}

/** This process's resident memory now, or null when it cannot be read (out of file descriptors). */
function readRss(): number | null {
  try {
    return process.memoryUsage.rss();
  } catch {
    return null;
  }
}

/** The longest time the event loop could not run, from Node's own event-loop-delay monitor. */
class LoopStall {
  private readonly h: IntervalHistogram = monitorEventLoopDelay({ resolution: 10 });

  constructor() {
    this.h.enable();
  }

  stop(): number {
    this.h.disable();
    // max is the lateness of the monitor's own 10 ms timer, in ns; 0 samples means no turn was late.
    return this.h.count > 0 ? this.h.max / 1e6 : 0;
  }
}
