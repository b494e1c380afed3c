// The HTML report's sink: every URL's bar, not just the first 1,000 the live meter keeps, so a
// report of a big run bins all of it. The first bars keep their URL and facts for hover titles;
// past the binning threshold only times and outcome are kept, in typed arrays (24 bytes a URL).

import type { RunEvent, UrlRecord } from '../core/types.js';
import type { RunSummary } from '../measure/stats.js';
import { type BarSpan, BIN_ABOVE, barOf } from '../render/html-waterfall.js';
import type { Sink } from './types.js';

export class SpanCollector implements Sink {
  private readonly full: BarSpan[] = [];
  private n = 0;
  private index = new Int32Array(1024);
  private times = new Float64Array(2048);
  private fails = new Uint8Array(1024);

  onEvent(e: RunEvent): void {
    if (e.kind !== 'start') this.add(e.record);
  }

  add(r: UrlRecord): void {
    // As the live meter: a URL never requested (a bad input line) has no bar.
    if (r.attempts === 0) return;
    if (this.full.length < BIN_ABOVE) this.full.push(barOf(r));
    if (this.n === this.index.length) this.grow();
    this.index[this.n] = r.index;
    this.times[2 * this.n] = r.start;
    this.times[2 * this.n + 1] = r.end;
    this.fails[this.n] = r.ok ? 0 : 1;
    this.n++;
  }

  private grow(): void {
    const index = new Int32Array(this.index.length * 2);
    index.set(this.index);
    const times = new Float64Array(this.times.length * 2);
    times.set(this.times);
    const fails = new Uint8Array(this.fails.length * 2);
    fails.set(this.fails);
    this.index = index;
    this.times = times;
    this.fails = fails;
  }

  /** Every bar of the run, to draw: full ones up to the threshold, bare ones (no URL) beyond it. */
  spans(): BarSpan[] {
    if (this.n <= BIN_ABOVE) return [...this.full];
    return Array.from({ length: this.n }, (_, i) => ({
      index: this.index[i]!,
      url: '',
      start: this.times[2 * i]!,
      end: this.times[2 * i + 1]!,
      ok: this.fails[i] === 0,
      status: null,
      code: this.fails[i] === 0 ? null : 'fail',
      worker: null,
    }));
  }

  /** The run's summary with every bar in place of the meter's capped sample. */
  applyTo(summary: RunSummary): RunSummary {
    return { ...summary, spans: this.spans(), spansDropped: 0 };
  }
}
