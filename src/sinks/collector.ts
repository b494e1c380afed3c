// compare's collector: every run's summary, by mode, for the table, the verdict and the export.

import type { FailCounts } from '../core/errors.js';
import type { Mode } from '../core/types.js';
import type { RunSummary } from '../measure/stats.js';
import type { ModeRuns } from '../render/compare.js';
import type { SpanCollector } from './spans.js';
import type { Sink } from './types.js';

export class Collector {
  readonly modes: ModeRuns[];

  constructor(modes: Mode[]) {
    this.modes = modes.map((mode) => ({ mode, runs: [] }));
  }

  /** Warm-up runs finished, to say how far a comparison stopped before any counted run got. */
  warmups = 0;

  /**
   * The sink for one run of `mode`: keeps its summary; a stopped run's apart, as partial (out of the
   * means and verdicts). With `bars` (the HTML report wants them), the summary keeps every URL's bar.
   */
  sinkFor(mode: Mode, bars: SpanCollector | null = null): Sink {
    const entry = this.modes.find((m) => m.mode === mode)!;
    return {
      onEvent: (e) => bars?.onEvent(e),
      onEnd: (summary: RunSummary) => {
        // The bars go onto the summary itself, not a copy: run-mode sets its shut-down time after onEnd.
        if (bars) Object.assign(summary, bars.applyTo(summary));
        if (!summary.interrupted) entry.runs.push(summary);
        else entry.partial = [...(entry.partial ?? []), summary];
      },
    };
  }

  /** URLs failed over every run. */
  failed(): number {
    return this.all().reduce((n, s) => n + s.failed, 0);
  }

  /** The same failures by class, for --fail-on. */
  failedBy(): FailCounts {
    const by: FailCounts = { error: 0, '4xx': 0, '5xx': 0 };
    for (const s of this.all()) {
      for (const c of Object.keys(by) as (keyof FailCounts)[]) by[c] += s.failedBy?.[c] ?? 0;
    }
    return by;
  }

  private all(): RunSummary[] {
    return this.modes.flatMap((m) => [...m.runs, ...(m.partial ?? [])]);
  }
}
