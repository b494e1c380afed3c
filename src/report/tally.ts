// One mode's records folded into its summary as they are read, in memory that does not grow with
// their number: counts, the latency histogram, first start and last end, in-flight counts on a
// time grid (grid.ts), a sample of bars for the waterfall, and per index only a 4-byte mark.
//
// The merge rule (records.ts): a record is its list's item at (index, URL); the same key again
// is a duplicate, and an ok one replaces a failure, else the first stays. An ok record is final
// the moment it is read, so it is folded in at once; a failed one may still be replaced, so it is
// held (about 80 bytes) and folded in at the end, if nothing replaced it.

import { Latencies, type RunSummary, type Span, wallTime } from '../measure/stats.js';
import { BIN_ABOVE, barOf } from '../render/html-waterfall.js';
import { InFlightGrid } from './grid.js';
import type { SavedRecord } from './saved.js';

const SLICES = 512;
/** Records time to the ms: slices finer than a few ms would draw that rounding as spikes. */
const MIN_SLICE_MS = 5;
/** Indexes below this are marked in a typed array (4 bytes each); any above, in a map. */
const MAX_TABLE = 1 << 22;
/** Marks come in pages of 16,384 indexes (64 KB): no copy as a list grows, nothing for indexes never seen. */
const MARK_BITS = 14;
const MARK_PAGE = 1 << MARK_BITS;

/** What a summary needs of one record. */
interface Part {
  start: number;
  end: number;
  ms: number;
  bytes: number;
  attempts: number;
  ok: boolean;
  badInput: boolean;
}

const partOf = (r: SavedRecord): Part => ({
  start: r.start,
  end: r.end,
  ms: r.ms,
  bytes: r.bytes,
  attempts: r.attempts,
  ok: r.ok,
  badInput: r.error?.code === 'BAD_INPUT',
});

/** 30 bits of FNV-1a over a URL, shifted up: the low 2 bits hold the mark's state. */
function urlHash(url: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < url.length; i++) h = Math.imul(h ^ url.charCodeAt(i), 0x01000193);
  return (h & ~3) >>> 0;
}

/**
 * Failed records that may yet be replaced, by key (an index, or a key of another list's item): a
 * slot each in typed arrays (41 bytes, and the map's entry), freed slots reused.
 */
class Held {
  private readonly slots = new Map<number | string, number>();
  private free: number[] = [];
  private nums = new Float64Array(5 * 256);
  private flags = new Uint8Array(256);

  set(key: number | string, p: Part): void {
    const i = this.free.pop() ?? this.slots.size;
    if (i >= this.flags.length) this.grow();
    this.nums.set([p.start, p.end, p.ms, p.bytes, p.attempts], 5 * i);
    this.flags[i] = p.badInput ? 1 : 0;
    this.slots.set(key, i);
  }

  delete(key: number | string): void {
    const i = this.slots.get(key);
    if (i === undefined) return;
    this.slots.delete(key);
    this.free.push(i);
  }

  /** Every record still held, then none. */
  drain(each: (p: Part) => void): void {
    for (const i of this.slots.values()) {
      const [start, end, ms, bytes, attempts] = this.nums.subarray(5 * i, 5 * i + 5) as unknown as number[];
      each({ start: start!, end: end!, ms: ms!, bytes: bytes!, attempts: attempts!, ok: false, badInput: this.flags[i] === 1 });
    }
    this.slots.clear();
    this.free = [];
  }

  private grow(): void {
    const nums = new Float64Array(this.nums.length * 2);
    nums.set(this.nums);
    const flags = new Uint8Array(this.flags.length * 2);
    flags.set(this.flags);
    this.nums = nums;
    this.flags = flags;
  }
}

const OK = 1;
const FAILED = 2;

/** Per index, the kept record's URL hash and state (0: none yet), in pages allocated as indexes come. */
class Marks {
  private readonly pages: Uint32Array[] = [];
  private readonly far = new Map<number, number>();

  get(index: number): number {
    if (index >= MAX_TABLE) return this.far.get(index) ?? 0;
    return this.pages[index >>> MARK_BITS]?.[index & (MARK_PAGE - 1)] ?? 0;
  }

  set(index: number, mark: number): void {
    if (index >= MAX_TABLE) {
      this.far.set(index, mark);
      return;
    }
    const p = index >>> MARK_BITS;
    this.pages[p] ??= new Uint32Array(MARK_PAGE);
    this.pages[p][index & (MARK_PAGE - 1)] = mark >>> 0;
  }
}

/**
 * The bars kept for the waterfall: every requested record while there are at most BIN_ABOVE, then
 * every `every`th index (a power of two, doubled when the sample is full), so the sample spans the
 * whole list however long it is.
 */
class Sample {
  private readonly bars = new Map<string, Span>();
  every = 1;

  offer(key: string, r: SavedRecord, replacing: boolean): void {
    if (r.attempts === 0) {
      if (replacing) this.bars.delete(key);
      return;
    }
    if (r.index % this.every !== 0) return;
    this.bars.set(key, barOf(r));
    while (this.bars.size > BIN_ABOVE) this.thin();
  }

  private thin(): void {
    this.every *= 2;
    for (const [key, bar] of this.bars) if (bar.index % this.every !== 0) this.bars.delete(key);
  }

  spans(): Span[] {
    return [...this.bars.values()].sort((a, b) => a.index - b.index);
  }
}

export class ModeTally {
  /** Records dropped as duplicates. */
  duplicates = 0;
  private readonly marks = new Marks();
  /** Another list's record at an index already taken (the same index, another URL): by key. */
  private readonly others = new Map<string, number>();
  /** Failed records that may yet be replaced. */
  private readonly held = new Held();
  private readonly sample = new Sample();
  private readonly latencies = new Latencies();
  private readonly grid = new InFlightGrid();
  private total = 0;
  private ok = 0;
  private badInput = 0;
  private requested = 0;
  private bytes = 0;
  private busyTenths = 0;
  private retries = 0;
  private first = Number.POSITIVE_INFINITY;
  private last = Number.NEGATIVE_INFINITY;

  constructor(readonly mode: string) {}

  add(r: SavedRecord): void {
    const hash = urlHash(r.url);
    const mark = this.marks.get(r.index);
    if (mark === 0) {
      this.marks.set(r.index, hash | (r.ok ? OK : FAILED));
      this.keep(r.index, r);
    } else if ((mark & ~3) >>> 0 === hash) {
      if (this.duplicate(r.index, mark & 3, r)) this.marks.set(r.index, hash | OK);
    } else this.addOther(r);
  }

  /** The same index with another URL: another list's item, merged by its full key. */
  private addOther(r: SavedRecord): void {
    const key = `${r.index}\n${r.url}`;
    const state = this.others.get(key);
    if (state === undefined) {
      this.others.set(key, r.ok ? OK : FAILED);
      this.keep(key, r);
    } else if (this.duplicate(key, state, r)) this.others.set(key, OK);
  }

  /** A record seen before: true when this ok one replaces the failure kept. */
  private duplicate(key: number | string, state: number, r: SavedRecord): boolean {
    this.duplicates++;
    if (state !== FAILED || !r.ok) return false;
    this.held.delete(key);
    this.fold(partOf(r));
    this.sample.offer(`${key}`, r, true);
    return true;
  }

  private keep(key: number | string, r: SavedRecord): void {
    this.total++;
    if (r.ok) this.fold(partOf(r));
    else this.held.set(key, partOf(r));
    this.sample.offer(`${key}`, r, false);
  }

  private fold(p: Part): void {
    if (p.ok) this.ok++;
    if (p.badInput) this.badInput++;
    // As the live meter: a URL never requested (a bad input line) has no time, no bar, no latency.
    if (p.attempts === 0) return;
    this.requested++;
    this.bytes += p.bytes;
    this.latencies.add(p.ms);
    // The record's ms in whole 0.1 ms, as the live meter sums them: the same figure, whatever the order.
    this.busyTenths += Math.round(p.ms * 10);
    this.retries += p.attempts - 1;
    if (p.start < this.first) this.first = p.start;
    if (p.end > this.last) this.last = p.end;
    this.grid.add(p.start, p.end, !p.ok);
  }

  /** Notes on what is approximate: the in-flight grid, when the run was too long for 1 ms cells. */
  notes(): string[] {
    const w = this.grid.cellMs;
    return w > 1 ? [`${this.mode}: peak in flight and the in-flight chart counted on a ${w} ms grid (a long run)`] : [];
  }

  /** The summary; wall runs from the first start to the last end. Call once, after the last add. */
  summary(): RunSummary {
    this.held.drain((p) => this.fold(p));
    const any = this.requested > 0;
    const startedAt = any ? this.first : 0;
    const wallMs = any ? wallTime(this.first, this.last) : 0;
    const sliceMs = Math.max(wallMs / SLICES, MIN_SLICE_MS);
    const n = Math.max(1, Math.min(SLICES, Math.ceil(wallMs / sliceMs)));
    const grid = this.grid.figures(startedAt, sliceMs, n);
    const spans = this.sample.spans();
    return {
      mode: this.mode,
      startedAt,
      wallMs,
      startupMs: Number.NaN,
      total: this.total,
      ok: this.ok,
      failed: this.total - this.ok,
      badInput: this.badInput,
      bytes: this.bytes,
      reqPerSec: wallMs > 0 ? (this.requested * 1000) / wallMs : 0,
      latency: this.latencies.summary(),
      // Retry waits are inside a record's span, so this can read a little high for a run with retries.
      achievedConcurrency: wallMs > 0 ? this.busyTenths / 10 / wallMs : 0,
      peakInFlight: grid.peak,
      loopStallMs: Number.NaN,
      cpu: { selfMs: Number.NaN, helpersMs: Number.NaN, totalMs: Number.NaN },
      memory: { selfPeakBytes: Number.NaN, helpersPeakBytes: Number.NaN },
      threads: Number.NaN,
      helpers: Number.NaN,
      retries: this.retries,
      interrupted: null,
      notStarted: null,
      spans,
      spansDropped: this.requested - spans.length,
      spansEvery: this.sample.every,
      inFlight: {
        origin: startedAt,
        sliceMs,
        values: Array.from(grid.busy, (v) => v / sliceMs),
        failed: grid.failed,
        failing: Array.from(grid.failBusy, (v) => v / sliceMs),
      },
    };
  }
}
