// The live text lines: one on stdout as each request starts and one as it finishes, in the order
// of their times, URLs shortened to a terminal's width.

import { now } from '../core/clock.js';
import type { RunEvent } from '../core/types.js';
import { eventLine } from '../render/lines.js';
import type { Paint } from '../render/paint.js';
import type { Out } from '../render/write.js';
import type { Sink, StatusLine } from './types.js';

/**
 * How long a line from a pool worker waits for earlier ones. Each worker thread posts its own
 * start and result messages, so they reach this thread slightly out of order (a few ms; more on
 * a loaded machine).
 */
export const HOLD_MS = 40;
/** At most this many lines wait; past it the oldest are printed, so memory stays bounded. */
const MAX_HELD = 4096;

export interface LinesOptions {
  /** A terminal's columns, to shorten URLs to; null for a file or pipe (whole URLs). */
  width: number | null;
  /** The progress line below, if any: cleared and redrawn around each batch of lines. */
  status: StatusLine | null;
}

interface Held {
  t: number;
  seq: number;
  line: string;
}

export class LinesSink implements Sink {
  private origin = 0;
  /** Set by the first event from a pool worker: from then on lines wait HOLD_MS and are sorted by time. */
  private holding = false;
  private held: Held[] = [];
  private seq = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly out: Out,
    private readonly paint: Paint,
    private readonly o: LinesOptions = { width: null, status: null },
  ) {}

  onStart(origin: number): void {
    this.origin = origin;
  }

  onEvent(e: RunEvent): void {
    const line = eventLine(e, this.origin, this.paint, this.o.width);
    // Events on the main thread (async; inline, whose blocked loop would also hold a start line
    // until its request ended) arrive in order: printed at once.
    this.holding ||= (e.kind === 'start' ? e.worker : e.record.worker) !== null;
    if (!this.holding) return this.print([line]);
    this.held.push({ t: e.kind === 'start' ? e.t : e.record.end, seq: this.seq++, line });
    if (this.held.length > MAX_HELD) this.release(Number.POSITIVE_INFINITY, this.held.length - MAX_HELD);
    this.schedule();
  }

  onEnd(): void {
    this.flush();
  }

  close(): void {
    this.flush();
  }

  /** Everything still held, in time order. */
  private flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.release(Number.POSITIVE_INFINITY);
  }

  private schedule(): void {
    if (this.timer !== null || this.held.length === 0) return;
    this.timer = setTimeout(() => {
      // After this turn's messages: a worker's message that waited behind a busy loop is taken
      // in (in the poll phase) before lines later than it are printed.
      setImmediate(() => {
        this.timer = null;
        this.release(now() - HOLD_MS);
        this.schedule();
      });
    }, HOLD_MS);
    this.timer.unref();
  }

  /** Print the held lines dated up to `until` (and at least `atLeast` of the oldest), sorted by time. */
  private release(until: number, atLeast = 0): void {
    if (this.held.length === 0) return;
    this.held.sort((a, b) => a.t - b.t || a.seq - b.seq);
    let n = 0;
    while (n < this.held.length && (n < atLeast || this.held[n]!.t <= until)) n++;
    if (n === 0) return;
    this.print(this.held.splice(0, n).map((h) => h.line));
  }

  private print(lines: string[]): void {
    const write = () => {
      for (const l of lines) this.out.line(l);
    };
    if (this.o.status) this.o.status.around(write);
    else write();
  }
}
