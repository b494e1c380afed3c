// `fetchall report RECORDS… [--html FILE]`: saved ndjson records → summary and timeline per mode,
// the comparison when there are several, and the HTML report.

import { statSync } from 'node:fs';
import type { Readable, Writable } from 'node:stream';
import { CLEAN, type Outcome } from '../exit.js';
import type { RunSummary } from '../measure/stats.js';
import { compareTable, verdicts } from '../render/compare.js';
import { escapeControls } from '../render/escape.js';
import { htmlReport, type ReportInput } from '../render/html.js';
import { summaryKnownText } from '../render/known.js';
import { type Paint, plain } from '../render/paint.js';
import { timeline } from '../render/timeline.js';
import { describeStream, Out, reason, writeFailure } from '../render/write.js';
import { type ReadResult, type RecordSource, readRecords } from '../report/records.js';
import { UNKNOWN_FROM_RECORDS } from '../report/summarize.js';
import { writeHtml } from './html-report.js';

/** What the command needs of the terminal (the CLI's Terminal has all of it). */
export interface ReportTerminal {
  stdout: Writable;
  stderr: Writable;
  stdinIsTTY?: boolean;
  columns: number;
  rows: number;
  paint: Paint;
  errPaint: Paint;
}

export interface ReportOptions {
  /** Write the HTML report here; null = none. */
  html: string | null;
  /** Print the terminal timeline (default on). */
  timeline?: boolean;
}

/** Arguments → sources; a missing or unreadable file is one line now, before anything is read. */
export function recordSources(files: string[], stdinIsTTY: boolean): RecordSource[] | string {
  if (files.length === 0) {
    return stdinIsTTY
      ? 'nothing to report: give files of ndjson records (saved with -f ndjson), or pipe them on stdin'
      : [{ kind: 'stdin' }];
  }
  const out: RecordSource[] = [];
  for (const f of files) {
    if (f === '-') {
      out.push({ kind: 'stdin' });
      continue;
    }
    try {
      if (statSync(f).isDirectory()) return `${escapeControls(f)}: cannot read: is a directory`;
    } catch (e) {
      return `${escapeControls(f)}: cannot read: ${reason(e as NodeJS.ErrnoException)}`;
    }
    out.push({ kind: 'file', path: f });
  }
  return out;
}

function printMode(s: RunSummary, several: boolean, o: ReportOptions, term: ReportTerminal, out: Out): void {
  if (several) out.line(term.paint.bold(`── ${s.mode} ──`));
  if (o.timeline !== false) {
    const chart = timeline(s, { width: term.columns, maxBars: Math.max(20, term.rows - 12), paint: term.paint });
    if (chart) out.line(`${chart}\n`);
  }
  out.line(`${summaryKnownText(s, term.paint, UNKNOWN_FROM_RECORDS)}\n`);
}

function printComparison(summaries: RunSummary[], term: ReportTerminal, out: Out): void {
  const modes = summaries.map((s) => ({ mode: s.mode, runs: [s] }));
  out.line(term.paint.bold('Comparison'));
  out.line(compareTable(modes, term.paint));
  const v = verdicts(modes);
  if (v.length > 0) out.line('');
  for (const line of v) out.line(term.paint.bold(line.text));
}

/** The HTML report's input for records: parameters the records do not hold are unknown. */
export function recordsReport(files: string[], summaries: RunSummary[], notes: string[]): ReportInput {
  const modes = summaries.map((s) => ({ mode: s.mode, runs: [s], unknown: UNKNOWN_FROM_RECORDS }));
  const several = summaries.length > 1;
  const table = several ? { table: compareTable(modes, plain), verdicts: verdicts(modes).map((v) => v.text) } : null;
  const named = files.length === 0 ? ['<stdin>'] : files.map((f) => (f === '-' ? '<stdin>' : f));
  return {
    title: `fetchall report: ${named.join(', ')}`,
    params: {
      modes: summaries.map((s) => s.mode),
      concurrency: null,
      perHost: null,
      timeoutMs: null,
      retries: null,
      node: null,
      machine: null,
    },
    modes,
    compare: table,
    notes: ['Rebuilt from saved records: CPU, memory, loop stall and threads are not in them.', ...notes],
  };
}

/**
 * How it ended (exit.ts decides the status): 0 records read cleanly; 1 some lines were skipped
 * (as a bad input line fails a fetch); 2 unusable arguments or no records; 74 a failed write.
 */
export async function reportCommand(
  files: string[],
  o: ReportOptions,
  term: ReportTerminal,
  stdin: Readable = process.stdin,
): Promise<Outcome> {
  const out = new Out(term.stdout, false, 'stdout');
  const err = new Out(term.stderr, true, 'stderr');
  const read = await readAll(files, term, stdin, err);
  if (read === null) return { ...CLEAN, usage: true, writeFailed: Boolean(err.error) };
  const summaries = read.merger.summaries();
  if (summaries.length === 0) {
    err.line('fetchall: nothing to report: no records in the input');
    return { ...CLEAN, usage: true, writeFailed: Boolean(err.error) };
  }
  const notes = [...mergeNotes(read.merger.duplicates, read.bad), ...read.merger.notes()];
  for (const n of notes) err.line(`fetchall: ${n}`);
  for (const s of summaries) printMode(s, summaries.length > 1, o, term, out);
  if (summaries.length > 1) printComparison(summaries, term, out);
  const wrote = o.html === null ? true : writeHtml(o.html, htmlReport(recordsReport(files, summaries, notes)), err);
  await out.drain();
  if (out.error) err.line(writeFailure(describeStream('stdout', term.stdout), out.error));
  const stop = out.closed && !out.error ? 'EPIPE' : null;
  return { ...CLEAN, failed: read.bad, stop, writeFailed: !wrote || Boolean(out.error || err.error) };
}

/** Every record of the sources, or null after one line on stderr when they cannot be read. */
async function readAll(files: string[], term: ReportTerminal, stdin: Readable, err: Out): Promise<ReadResult | null> {
  const sources = recordSources(files, term.stdinIsTTY ?? Boolean((stdin as { isTTY?: boolean }).isTTY));
  if (typeof sources === 'string') {
    err.line(`fetchall: ${sources}`);
    return null;
  }
  try {
    return await readRecords(sources, stdin, (line) => err.line(line));
  } catch (e) {
    err.line(`fetchall: cannot read the records: ${reason(e as NodeJS.ErrnoException)}`);
    return null;
  }
}

/** What merging did, in words: duplicates dropped per mode, bad lines skipped. */
export function mergeNotes(duplicates: Map<string, number>, bad: number): string[] {
  const notes = [...duplicates].map(
    ([mode, n]) =>
      `${n} duplicate record${n === 1 ? '' : 's'} (same index and URL) in ${mode}: kept one per index (an ok one over a failure, else the first)`,
  );
  if (bad > 0) notes.push(`${bad} bad line${bad === 1 ? '' : 's'} skipped`);
  return notes;
}
