// The sink contract: what listens to a run. Sinks are the only writers; the scheduler only emits.

import type { RunEvent } from '../core/types.js';
import type { RunSummary } from '../measure/stats.js';

export interface Sink {
  /**
   * Every start/done/fail event as it happens. A bad input line is a 'fail' record with
   * error.code 'BAD_INPUT' and the message 'FILE:LINE: reason'.
   */
  onEvent(e: RunEvent): void;
  /** Once, after the run (also after a stop). */
  onEnd?(summary: RunSummary): void;
}
