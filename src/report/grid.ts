// Requests in flight over time from records read in any order, in bounded memory: +1 at a
// record's start and −1 at its end, counted per cell of time in sparse pages. Cells are 1 ms (the
// grid records' ISO times are written on), so peak and in-flight series are exact, while the
// run fits MAX_PAGES pages (about 17 minutes of requests); a longer run doubles the cell width
// until it fits, and the peak is then sampled once per cell (`cellMs` says how coarse it went).

const PAGE = 4096;
/** 256 pages of 4,096 cells: 4 MB of counts at most, whatever the number of records. */
const MAX_PAGES = 256;

type Pages = Map<number, Int32Array>;

/**
 * Each page's cells merged in pairs: the same counts on cells twice as wide, into pages half as
 * many. A page's array is reused for its merged page, so a halving allocates nothing but `scratch`.
 */
function halve(pages: Pages, scratch: Int32Array): Pages {
  const out: Pages = new Map();
  for (const p of [...pages.keys()].sort((x, y) => x - y)) {
    const page = pages.get(p);
    if (!page) continue;
    const q = Math.floor(p / 2);
    const pair = [pages.get(2 * q), pages.get(2 * q + 1)];
    scratch.fill(0);
    pair.forEach((from, half) => {
      if (from) for (let j = 0; j < PAGE; j++) scratch[half * (PAGE / 2) + (j >> 1)]! += from[j]!;
    });
    pages.delete(2 * q);
    pages.delete(2 * q + 1);
    page.set(scratch);
    out.set(q, page);
  }
  return out;
}

/** What the grid tells over slices of a run: most in flight, time in flight and failures per slice. */
export interface GridFigures {
  peak: number;
  /** Request-ms in flight per slice. */
  busy: Float64Array;
  /** Failed requests per slice, by the slice they ended in. */
  failed: number[];
  /** Request-ms in flight per slice of the requests that failed: where each failure was, start to end. */
  failBusy: Float64Array;
}

export class InFlightGrid {
  private cell = 1;
  private diff: Pages = new Map();
  private fails: Pages = new Map();
  /** As `diff`, for failed requests only. */
  private failDiff: Pages = new Map();
  private readonly scratch = new Int32Array(PAGE);

  /** The width of a cell in ms: 1 while the counts are exact. */
  get cellMs(): number {
    return this.cell;
  }

  add(start: number, end: number, failed: boolean): void {
    this.bump(this.diff, start, 1);
    this.bump(this.diff, end, -1);
    if (failed) {
      this.bump(this.fails, end, 1);
      this.bump(this.failDiff, start, 1);
      this.bump(this.failDiff, end, -1);
    }
    while (this.diff.size > MAX_PAGES) {
      this.diff = halve(this.diff, this.scratch);
      this.fails = halve(this.fails, this.scratch);
      this.failDiff = halve(this.failDiff, this.scratch);
      this.cell *= 2;
    }
  }

  private bump(pages: Pages, t: number, by: number): void {
    const cell = Math.floor(t / this.cell);
    const p = Math.floor(cell / PAGE);
    let page = pages.get(p);
    if (!page) {
      page = new Int32Array(PAGE);
      pages.set(p, page);
    }
    page[cell - p * PAGE]! += by;
  }

  /** The counts swept in time order over `n` slices of `sliceMs` from `t0`. */
  figures(t0: number, sliceMs: number, n: number): GridFigures {
    const all = this.sweep(this.diff, t0, sliceMs, n);
    return { ...all, failed: this.failedPerSlice(t0, sliceMs, n), failBusy: this.sweep(this.failDiff, t0, sliceMs, n).busy };
  }

  /** Most open at once, and request-ms open per slice, from +1/−1 counts. */
  private sweep(pages: Pages, t0: number, sliceMs: number, n: number): { peak: number; busy: Float64Array } {
    const busy = new Float64Array(n);
    const spread = (a: number, b: number, v: number): void => {
      for (let i = Math.max(0, Math.floor((a - t0) / sliceMs)); i < n && t0 + i * sliceMs < b; i++) {
        const hi = Math.min(b, t0 + (i + 1) * sliceMs);
        const lo = Math.max(a, t0 + i * sliceMs);
        if (hi > lo) busy[i]! += v * (hi - lo);
      }
    };
    let open = 0;
    let peak = 0;
    let prev = Number.NaN;
    for (const p of [...pages.keys()].sort((a, b) => a - b)) {
      const page = pages.get(p)!;
      const base = p * PAGE * this.cell;
      if (open > 0) spread(prev, base, open);
      for (let j = 0; j < PAGE; j++) {
        open += page[j]!;
        if (open > peak) peak = open;
        if (open > 0) spread(base + j * this.cell, base + (j + 1) * this.cell, open);
      }
      prev = base + PAGE * this.cell;
    }
    return { peak, busy };
  }

  private failedPerSlice(t0: number, sliceMs: number, n: number): number[] {
    const failed = new Array<number>(n).fill(0);
    for (const [p, page] of this.fails) {
      for (let j = 0; j < PAGE; j++) {
        if (page[j] === 0) continue;
        const t = (p * PAGE + j) * this.cell;
        failed[Math.min(n - 1, Math.max(0, Math.floor((t - t0) / sliceMs)))]! += page[j]!;
      }
    }
    return failed;
  }
}
