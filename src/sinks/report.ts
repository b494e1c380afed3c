// The end reports: one run's timeline and summary, and a comparison's table and verdict, each on
// the stream (and in the colours) one rule picks.

import type { RunEvent } from '../core/types.js';
import type { RunSummary } from '../measure/stats.js';
import type { Format, RunOptions } from '../options.js';
import { compareTable, type ModeRuns, outliers, timingTable, verdictLines } from '../render/compare.js';
import { duration } from '../render/format.js';
import type { Paint } from '../render/paint.js';
import { summaryText } from '../render/summary.js';
import { timeline } from '../render/timeline.js';
import type { Out } from '../render/write.js';
import type { StopReason } from '../signals.js';
import type { Outputs, Sink } from './types.js';

export interface ReportTarget {
  out: Out;
  paint: Paint;
  toStdout: boolean;
}

/**
 * The one rule: a finished text run reports on stdout, after its lines. Otherwise stderr: stdout
 * then carries records (which a report would corrupt), or a stop cut the run short.
 */
export function reportTarget(io: Outputs, format: Format, stop: StopReason | null): ReportTarget {
  const toStdout = format === 'text' && stop === null;
  return toStdout ? { out: io.out, paint: io.paint, toStdout } : { out: io.err, paint: io.errPaint, toStdout };
}

/** The terminal's size, for the timeline; and which streams are terminals, for the summary's width. */
export interface Layout {
  columns: number;
  rows: number;
  stdoutIsTTY?: boolean;
  stderrIsTTY?: boolean;
  errColumns?: number;
}

/** The width to wrap a summary at: the terminal's, or none for a file or pipe. */
function summaryWidth(layout: Layout, toStdout: boolean): number {
  if (toStdout) return layout.stdoutIsTTY ? layout.columns : Number.POSITIVE_INFINITY;
  return layout.stderrIsTTY ? (layout.errColumns ?? 80) : Number.POSITIVE_INFINITY;
}

type ReportOptions = Pick<RunOptions, 'format' | 'quiet' | 'timeline'>;

/** One run's timeline (text) and summary. */
export class ReportSink implements Sink {
  /** `finishedOnly`: say nothing for a stopped run (compare reports it in its table instead). */
  constructor(
    private readonly io: Outputs,
    private readonly o: ReportOptions,
    private readonly layout: Layout,
    private readonly finishedOnly = false,
  ) {}

  onEvent(_e: RunEvent): void {}

  /** `stop`: a stop the command learned of after the scheduler ended (inline blocks the loop). */
  onEnd(summary: RunSummary, stop = summary.interrupted as StopReason | null): void {
    const { o } = this;
    if ((this.finishedOnly && stop !== null) || (o.format !== 'text' && o.quiet)) return;
    const { out, paint, toStdout } = reportTarget(this.io, o.format, stop);
    if (o.format === 'text' && o.timeline && !o.quiet && stop === null) {
      const chart = timeline(summary, { width: this.layout.columns, maxBars: Math.max(20, this.layout.rows - 12), paint });
      if (chart) out.line(`\n${chart}`);
    }
    out.line(`${o.format === 'text' && !o.quiet ? '\n' : ''}${summaryText(summary, paint, summaryWidth(this.layout, toStdout))}`);
  }
}

/** How the runs were made, for the comparison's heading. */
export interface ComparisonNote {
  /** Uncounted runs of each mode before the counted ones. */
  warmup?: number;
  /** Warm-up runs finished, for a comparison stopped before any counted run. */
  warmupsDone?: number;
}

/**
 * The comparison: the timing block (fetch and end to end: mean ± σ, min, max, relative), the
 * side-by-side table of every figure, any outlier run, then the verdicts.
 */
export function printComparison(
  io: Outputs,
  o: ReportOptions,
  modes: ModeRuns[],
  stop: StopReason | null,
  note: ComparisonNote = {},
): void {
  const { out, paint, toStdout } = reportTarget(io, o.format, stop);
  // -q with records says nothing more; but a stopped comparison always says what it got to.
  if (!toStdout && o.quiet && stop === null) return;
  const done = modes.filter((m) => m.runs.length > 0);
  const partial = modes.flatMap((m) => m.partial ?? []);
  if (done.length === 0 && partial.length === 0) {
    if (stop) out.line(paint.yellow(stoppedEarly(modes, stop, note)));
    return;
  }
  const runs = Math.max(0, ...done.map((m) => m.runs.length));
  const how = [
    runs > 1 ? `${runs} runs of each mode` : '',
    note.warmup ? `after ${note.warmup} warm-up run${note.warmup > 1 ? 's' : ''} each` : '',
  ]
    .filter(Boolean)
    .join(', ');
  out.line(
    `\n${paint.bold('Comparison')}${how ? paint.dim(` (${how})`) : ''}${stop ? paint.yellow(`  (interrupted by ${stop}: partial)`) : ''}`,
  );
  if (done.length > 0) {
    out.line(timingTable(done, paint));
    out.line('');
    out.line(compareTable(done, paint));
  }
  for (const p of partial) out.line(paint.yellow(partialLine(p)));
  const odd = outliers(done);
  if (odd.length > 0) {
    out.line('');
    for (const x of odd) out.line(paint.yellow(`warning: ${x.text}`));
    out.line(paint.dim('  A busy machine, or a cold first run? --warmup N runs each mode N times first, uncounted.'));
  }
  const v = verdictLines(done);
  if (v.length > 0) out.line('');
  for (const line of v) out.line(paint.bold(line));
  if (modes.length === 1)
    out.line(
      paint.dim(`\none mode (${modes[0]!.mode}): nothing to compare it with; --modes names two or more, e.g. --modes threads,async`),
    );
}

/** A run cut short, in one line: what it did, and that the figures leave it out. */
function partialLine(s: RunSummary): string {
  const ns = s.notStarted?.count ?? 0;
  const left = ns > 0 ? `, ${ns} not started` : '';
  return `partial: ${s.mode} interrupted by ${s.interrupted} after ${duration(s.wallMs)} (${s.total} URL${s.total === 1 ? '' : 's'} done${left}): left out of the figures and verdicts`;
}

/** A comparison stopped before any counted run ended. */
function stoppedEarly(modes: ModeRuns[], stop: StopReason, note: ComparisonNote): string {
  const warm = note.warmup ? note.warmup * modes.length : 0;
  const done = note.warmupsDone ?? 0;
  const where = warm > 0 && done < warm ? ` during warm-up (${done} of ${warm} warm-up runs done)` : '';
  return `Comparison interrupted by ${stop}${where}: no run finished, nothing to compare`;
}
