// What a run measures about itself: latency percentiles (Node's fixed-size histogram), in-flight
// counts, loop stalls, CPU and memory of the process and its helpers, and the bounded data the
// timeline is drawn from. Nothing here grows with the length of the list.

import { createHistogram, type IntervalHistogram, monitorEventLoopDelay, type RecordableHistogram } from 'node:perf_hooks';
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
  inFlight: InFlightSeries;
}

/** The waterfall keeps this many bars; beyond it the in-flight chart is drawn instead. */
export const MAX_SPANS = 1000;
const SLICES = 512;

export class RunMeter {
  readonly startedAt = now();
  private readonly hist: RecordableHistogram = createHistogram();
  private readonly loop = new LoopStall();
  // Sampled, not the process's lifetime maxRSS: a comparison runs several modes in one process,
  // and each must be charged only its own peak.
  private rssPeak = process.memoryUsage.rss();
  private readonly rssTimer = setInterval(() => this.sampleRss(), 50);
  private readonly cpu0 = process.cpuUsage();
  private readonly children0 = reapedChildrenCpuMs();
  private readonly childrenSys0 = reapedChildrenSysMs();
  private helpersSys0 = 0;
  private helpers0 = 0;
  private inflight = 0;
  private peak = 0;
  private busyMs = 0;
  private minMs = Number.POSITIVE_INFINITY;
  private maxMs = 0;
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

  constructor(
    readonly mode: string,
    private readonly helperPids: () => number[],
  ) {
    this.helpers0 = helperPids().reduce((s, p) => s + procCpuMs(p), 0);
    this.helpersSys0 = helperPids().reduce((s, p) => s + procSysMs(p), 0);
    this.rssTimer.unref();
  }

  private sampleRss(): void {
    const rss = process.memoryUsage.rss();
    if (rss > this.rssPeak) this.rssPeak = rss;
  }

  attemptStarted(attempt: number): void {
    this.inflight++;
    if (this.inflight > this.peak) this.peak = this.inflight;
    if (attempt > 1) this.retries++;
  }

  attemptEnded(start: number, end: number): void {
    this.inflight--;
    // Time in flight, not a record's whole span: a retry's backoff is no concurrency.
    this.busyMs += end - start;
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
    this.count++;
    this.bytes += r.bytes;
    this.hist.record(Math.max(1, Math.round(r.ms * 1000)));
    if (r.ms < this.minMs) this.minMs = r.ms;
    if (r.ms > this.maxMs) this.maxMs = r.ms;
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

  /** Spread one attempt's time over the slices; double the slice width when the run outgrows them. */
  private addSlices(start: number, end: number): void {
    const t0 = this.startedAt;
    while (end - t0 > this.sliceMs * SLICES) {
      for (let i = 0; i < SLICES / 2; i++) this.slices[i] = this.slices[2 * i]! + this.slices[2 * i + 1]!;
      this.slices.fill(0, SLICES / 2);
      this.sliceMs *= 2;
    }
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

  /** CPU since the run began: this process, and its helpers (live ones from /proc, reaped ones from our own stat). */
  private cpuSince(pids: number[]): RunSummary['cpu'] {
    const own = process.cpuUsage(this.cpu0);
    const selfMs = (own.user + own.system) / 1000;
    const helpersMs = Math.max(0, pids.reduce((s, p) => s + procCpuMs(p), 0) - this.helpers0 + (reapedChildrenCpuMs() - this.children0));
    const helpersSys = pids.reduce((s, p) => s + procSysMs(p), 0) - this.helpersSys0 + (reapedChildrenSysMs() - this.childrenSys0);
    const systemMs = own.system / 1000 + Math.min(helpersMs, Math.max(0, helpersSys));
    return { selfMs, helpersMs, totalMs: selfMs + helpersMs, systemMs };
  }

  /** The histogram's buckets round; the extremes are kept exactly, and bound the percentiles. */
  private latency(): RunSummary['latency'] {
    if (this.count === 0) return null;
    const at = (p: number) => Math.min(this.maxMs, Math.max(this.minMs, this.hist.percentile(p) / 1000));
    return { min: this.minMs, p50: at(50), p95: at(95), max: this.maxMs };
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
    const wallMs = end - this.startedAt;
    const pids = this.helperPids();
    const cpu = this.cpuSince(pids);
    const used = Math.ceil(wallMs / this.sliceMs);
    return {
      mode: this.mode,
      startedAt: this.startedAt,
      wallMs,
      startupMs: opts.startupMs,
      total: this.okCount + this.failCount,
      ok: this.okCount,
      failed: this.failCount,
      failedBy: { ...this.failedBy },
      badInput: this.bad,
      bytes: this.bytes,
      reqPerSec: wallMs > 0 ? (this.count * 1000) / wallMs : 0,
      latency: this.latency(),
      achievedConcurrency: wallMs > 0 ? this.busyMs / wallMs : 0,
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
        values: Array.from(this.slices.subarray(0, Math.min(SLICES, Math.max(1, used))), (v) => v / this.sliceMs),
      },
    };
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
