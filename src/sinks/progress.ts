// The live progress line on stderr, redrawn in place every 200 ms, kept below any other line
// written to the same terminal, and cleared when the run ends.

import { now } from '../core/clock.js';
import type { RunEvent } from '../core/types.js';
import { CLEAR_LINE, progressLine } from '../render/progress.js';
import type { Out } from '../render/write.js';
import type { Sink, StatusLine } from './types.js';

/** How the line is drawn: the commands decide when there is one at all (commands/run-mode.ts). */
export interface ProgressPlan {
  /** The terminal's width now: read at each redraw, so a resize is followed. */
  columns: () => number;
  /**
   * Draw only once the run is longer than this many URLs (counted, or started so far): text
   * lines on the same terminal show a short run by themselves. 0: from the start.
   */
  after: number;
}

const EVERYWHERE: ProgressPlan = { columns: () => 80, after: 0 };

export class ProgressSink implements Sink, StatusLine {
  private done = 0;
  private failed = 0;
  private inFlight = 0;
  private origin = 0;
  private timer: NodeJS.Timeout | null = null;
  /** The line is on the screen now (so it must be cleared before anything else is written). */
  private drawn = false;

  /** `total`: the URLs given, when known; a command may learn it during the run (a counting pass). */
  constructor(
    private readonly err: Out,
    public total: number | null = null,
    private readonly plan: ProgressPlan = EVERYWHERE,
  ) {}

  onStart(origin: number): void {
    this.origin = origin;
    this.timer = setInterval(() => this.draw(), 200);
    this.timer.unref();
  }

  onEvent(e: RunEvent): void {
    // A URL is in flight from its first attempt to its record, backoff included.
    if (e.kind === 'start') {
      if (e.attempt === 1) this.inFlight++;
      return;
    }
    this.done++;
    if (e.kind === 'fail') this.failed++;
    if (e.record.attempts > 0) this.inFlight = Math.max(0, this.inFlight - 1);
  }

  /** Cleared before the end reports are written (compare's come from sinks after this one). */
  onEnd(): void {
    this.close();
  }

  close(): void {
    if (this.timer === null) return;
    clearInterval(this.timer);
    this.timer = null;
    if (this.drawn) this.err.partial(CLEAR_LINE);
    this.drawn = false;
  }

  around(write: () => void): void {
    if (!this.drawn) return write();
    this.err.partial(CLEAR_LINE);
    this.drawn = false;
    write();
    this.draw();
  }

  private draw(): void {
    if (this.timer === null) return;
    const seen = Math.max(this.total ?? 0, this.done + this.inFlight);
    if (seen <= this.plan.after) return;
    const p = { done: this.done, total: this.total, failed: this.failed, inFlight: this.inFlight, elapsedMs: now() - this.origin };
    this.err.partial(CLEAR_LINE + progressLine(p, this.plan.columns()));
    this.drawn = true;
  }
}
