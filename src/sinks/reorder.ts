// The reorder window behind `--sort index`: rows out in input order, with memory bounded whatever the list's length.

/** How much the window holds before it lets rows out of order: enough for any stall a person would wait out. */
export const WINDOW_ROWS = 10_000;
export const WINDOW_CHARS = 8 * 1024 * 1024;

/**
 * Rows, each with its 0-based input index, go out in index order: a row waits here until every
 * earlier index is out. When more than `maxRows` rows (or `maxChars` characters) wait, the lowest
 * waiting row goes out anyway, and the indexes it skipped (a slow URL still running) come out
 * when they finish, late: order is given up, never memory. Indexes are unique within one run.
 */
export class ReorderWindow {
  /** The lowest index not yet out, bar rows forced past. */
  private next = 0;
  private readonly waiting = new Map<number, string>();
  /** The waiting indexes as a binary min-heap: exactly the keys of `waiting`. */
  private readonly heap: number[] = [];
  private chars = 0;

  constructor(
    private readonly emit: (row: string) => void,
    private readonly maxRows = WINDOW_ROWS,
    private readonly maxChars = WINDOW_CHARS,
  ) {}

  get size(): number {
    return this.waiting.size;
  }

  push(index: number, row: string): void {
    if (index < this.next) return this.emit(row); // late: an earlier row was forced past it
    if (index > this.next) {
      this.waiting.set(index, row);
      this.chars += row.length;
      heapPush(this.heap, index);
      while (this.waiting.size > this.maxRows || (this.chars > this.maxChars && this.waiting.size > 0)) this.forceLowest();
      return;
    }
    this.emit(row);
    this.next = index + 1;
    this.drain();
  }

  /** Everything still waiting, in index order: at the end of a run. */
  flush(): void {
    while (this.waiting.size > 0) this.forceLowest();
  }

  private forceLowest(): void {
    this.next = heapPeek(this.heap)!;
    this.drain();
  }

  /** Let out the run of waiting rows from `next` on. They are the heap's smallest, so it stays in step. */
  private drain(): void {
    for (let row = this.waiting.get(this.next); row !== undefined; row = this.waiting.get(this.next)) {
      this.waiting.delete(this.next);
      this.chars -= row.length;
      heapPop(this.heap);
      this.emit(row);
      this.next++;
    }
  }
}

function heapPeek(h: number[]): number | undefined {
  return h[0];
}

function heapPush(h: number[], v: number): void {
  let i = h.push(v) - 1;
  while (i > 0) {
    const parent = (i - 1) >> 1;
    if (h[parent]! <= v) break;
    h[i] = h[parent]!;
    i = parent;
  }
  h[i] = v;
}

function heapPop(h: number[]): void {
  const last = h.pop()!;
  if (h.length === 0) return;
  let i = 0;
  for (;;) {
    const l = 2 * i + 1;
    if (l >= h.length) break;
    const c = l + 1 < h.length && h[l + 1]! < h[l]! ? l + 1 : l;
    if (h[c]! >= last) break;
    h[i] = h[c]!;
    i = c;
  }
  h[i] = last;
}
