// The live progress line on stderr, redrawn in place every 200 ms and cleared when the run ends.

import type { RunEvent } from '../core/types.js';
import { now } from '../measure/clock.js';
import { CLEAR_LINE, progressLine } from '../render/progress.js';
import type { Out } from '../render/write.js';
import type { Sink } from './types.js';

export class ProgressSink implements Sink {
  private done = 0;
  private inFlight = 0;
  private origin = 0;
  private timer: NodeJS.Timeout | null = null;

  /** `total`: the URLs given, when known; a command may learn it during the run (a counting pass). */
  constructor(
    private readonly err: Out,
    public total: number | null = null,
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
    if (e.record.attempts > 0) this.inFlight = Math.max(0, this.inFlight - 1);
  }

  close(): void {
    if (this.timer === null) return;
    clearInterval(this.timer);
    this.timer = null;
    this.err.partial(CLEAR_LINE);
  }

  private draw(): void {
    const line = progressLine({ done: this.done, total: this.total, inFlight: this.inFlight, elapsedMs: now() - this.origin });
    this.err.partial(CLEAR_LINE + line);
  }
}
