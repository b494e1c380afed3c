// The sink contract: what listens to a run. Sinks are the only writers; the scheduler only emits.

import type { RunEvent } from '../core/types.js';
import type { RunSummary } from '../measure/stats.js';
import type { Paint } from '../render/paint.js';
import type { Out } from '../render/write.js';

export interface Sink {
  /**
   * Once the engine is ready, before the first event (commands/run-mode.ts calls it: the
   * scheduler knows no engine start-up). `origin` is the run's start on the one clock.
   */
  onStart?(origin: number): void;
  /**
   * Every start/done/fail event as it happens. A bad input line is a 'fail' record with
   * error.code 'BAD_INPUT' and the message 'FILE:LINE: reason'.
   */
  onEvent(e: RunEvent): void;
  /** Once, after the run (also after a stop). */
  onEnd?(summary: RunSummary): void;
  /** Once, however the run ended (an error too): stop timers, clear a live line. Called by run-mode.ts. */
  close?(): void;
}

/** Where sinks write, and the colours each stream takes: decided once, by the session. */
export interface Outputs {
  out: Out;
  err: Out;
  paint: Paint;
  errPaint: Paint;
}

/**
 * A live line drawn in place at the bottom of a terminal (the progress line). Anything else
 * written to that terminal goes through `around`, so the line is cleared first and drawn again
 * below what was written, never left in the middle of it.
 */
export interface StatusLine {
  around(write: () => void): void;
}
