// The HTML report of a run (fetch, compare, demo, saved records): what was measured (the run's
// options, Node, this machine), the modes that ran, and the page written atomically where asked.

import { arch, cpus, platform, totalmem } from 'node:os';
import type { RunSummary } from '../measure/stats.js';
import type { RunOptions } from '../options.js';
import { compareTable, type ModeRuns, verdicts } from '../render/compare.js';
import { escapeControls } from '../render/escape.js';
import { bytes } from '../render/format.js';
import { htmlReport, type ReportInput, type ReportParams } from '../render/html.js';
import { plain } from '../render/paint.js';
import { type Out, reason } from '../render/write.js';
import type { StopReason } from '../signals.js';
import { writeAtomically } from './files.js';

/** 'linux x64, 2 × AMD EPYC 7B13, 8.3 GB memory': what a reader needs to weigh the figures. */
export function machine(): string {
  const list = cpus();
  const model = list[0]?.model.trim() || 'unknown CPU';
  return `${platform()} ${arch()}, ${list.length} × ${model}, ${bytes(totalmem())} memory`;
}

/** A live run's parameters, from its options. */
export function runParams(o: RunOptions, modes: readonly string[]): ReportParams {
  return {
    modes,
    concurrency: o.concurrency,
    perHost: o.perHost ?? 'no limit',
    timeoutMs: o.timeoutMs,
    retries: o.retries,
    node: process.version,
    machine: machine(),
  };
}

const stopNote = (stop: StopReason | null): string[] => (stop ? [`Interrupted by ${stop}: what is drawn is partial.`] : []);

/** fetch: one mode's run (its summary carrying every bar, see sinks/spans.ts). */
export function runReport(o: RunOptions, summary: RunSummary, stop: StopReason | null): ReportInput {
  return {
    title: `fetchall: ${summary.total} URL${summary.total === 1 ? '' : 's'} in ${o.mode} mode, -c ${o.concurrency}`,
    params: runParams(o, [o.mode]),
    modes: [{ mode: o.mode, runs: [summary] }],
    notes: stopNote(stop),
  };
}

/** compare and demo: every mode that ran, stacked, with the table and verdicts as the terminal prints them. */
export function comparisonReport(
  title: string,
  o: RunOptions,
  modes: ModeRuns[],
  stop: StopReason | null,
  serverPeaks: ReadonlyMap<string, number> = new Map(),
): ReportInput {
  const done = modes.filter((m) => m.runs.length > 0);
  return {
    title,
    params: runParams(
      o,
      modes.map((m) => m.mode),
    ),
    modes: done.map((m) => ({ mode: m.mode, runs: m.runs, serverPeak: serverPeaks.get(m.mode) ?? null })),
    compare: done.length > 0 ? { table: compareTable(done, plain), verdicts: verdicts(done).map((v) => v.text) } : null,
    notes: stopNote(stop),
  };
}

/** The page to `path`, saying where it went; false after one line on stderr when it cannot be written. */
export function writeHtml(path: string, html: string, err: Out): boolean {
  try {
    writeAtomically(path, html);
  } catch (e) {
    err.line(`fetchall: cannot write the report '${escapeControls(path)}': ${reason(e as NodeJS.ErrnoException)}`);
    return false;
  }
  err.line(`fetchall: wrote the report to ${escapeControls(path)} (open it in a browser)`);
  return true;
}

/** A live run's report, rendered and written: see writeHtml. */
export function writeReport(path: string, input: ReportInput, err: Out): boolean {
  return writeHtml(path, htmlReport(input), err);
}
