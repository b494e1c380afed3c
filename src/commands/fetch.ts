// `fetchall [options] [source...]`: sources → one mode → live lines or records → timeline and summary.

import type { UsageError } from '../core/errors.js';
import type { Outcome } from '../exit.js';
import { countable, countJobs, filterItems, type InputItem, readJobs, type Source } from '../input.js';
import type { RunSummary } from '../measure/stats.js';
import type { RunOptions } from '../options.js';
import { escapeControls } from '../render/escape.js';
import type { Out } from '../render/write.js';
import { loadResume, type ResumeState, sameFile } from '../resume.js';
import { inShard } from '../shard.js';
import type { StopReason } from '../signals.js';
import { BadLinesSink } from '../sinks/bad-lines.js';
import { FailuresSink } from '../sinks/failures.js';
import { FdLimitSink } from '../sinks/fd-limit.js';
import { ProgressSink } from '../sinks/progress.js';
import { ReportSink } from '../sinks/report.js';
import { SpanCollector } from '../sinks/spans.js';
import type { Sink } from '../sinks/types.js';
import { outputSink, progressPlan, runMode, startupStopLine, toRunConfig } from './run-mode.js';
import { type Session, session, type Terminal } from './session.js';

/** What the input held before a shard or --resume took its part, and whether a source could not be read. */
interface InputTally {
  read: number;
  skipped: number;
  unreadable: boolean;
}

/** `report`: also write the HTML report there (checked writable by the CLI before the run). */
export async function fetchCommand(sources: Source[], o: RunOptions, term: Terminal, report: string | null = null): Promise<Outcome> {
  const s = session(term, o.format === 'text' || o.mode === 'inline');
  try {
    const resume = o.resume ? await startResume(o.resume, term, s.err, s.out) : null;
    const plan = progressPlan(o, term);
    const progress = plan ? new ProgressSink(s.err, null, plan) : null;
    const given = countGiven(sources, progress, keeper(o, resume));
    const bars = report === null ? null : new SpanCollector();
    const sinks = [
      new BadLinesSink(s.err, progress),
      new FdLimitSink(s.err, toRunConfig(o).concurrency, progress),
      progress,
      o.quiet ? new FailuresSink(s.err, progress) : null,
      outputSink(o, s, true, progress),
      bars,
    ].filter((x): x is Sink => x !== null);
    const input: InputTally = { read: 0, skipped: 0, unreadable: false };
    const { summary, ...run } = await runMode({
      items: inputItems(sources, s, resume, input, o.shard),
      options: o,
      mode: o.mode,
      session: s,
      sinks,
    });
    // A signal handled only as the engine closed (inline blocks the loop) is still a stop.
    const stop = run.stop ?? s.stopped();
    await afterRun(summary, stop, { sources, o, s, resume, input, given });
    const empty = summary && summary.total === 0 && stop === null ? emptyRun(o, s, input) : null;
    if (empty) return empty;
    // Records first: a stdout that cannot take them is known before the report, which then stays
    // unprinted. So the report is handed the summary here, once the run is settled, not by the scheduler.
    await s.out.drain();
    if (summary && stop !== 'EPIPE' && !s.out.error) new ReportSink(s, o, term).onEnd(summary, stop);
    await s.out.drain();
    const reported = summary && bars && report !== null ? await writeRunReport(report, o, bars.applyTo(summary), stop, s) : true;
    const failed = { failed: summary?.failed ?? 0, failedBy: summary?.failedBy ?? null, failOn: o.failOn };
    return s.finish({ ...failed, stop, writeFailed: !reported, usage: input.unreadable });
  } finally {
    s.unhook();
  }
}

/** The items to fetch: every source read once, counted, less what --resume skips. An unreadable source is said at once. */
function inputItems(
  sources: Source[],
  s: Session,
  resume: ResumeState | null,
  input: InputTally,
  shard: RunOptions['shard'],
): AsyncIterable<InputItem> {
  const onUnreadable = (e: UsageError) => {
    input.unreadable = true;
    s.err.line(`fetchall: ${escapeControls(e.message)}`);
  };
  const items = counting(readJobs(sources, process.stdin, s.ctl.signal, onUnreadable), input);
  if (!resume) return items;
  return filterItems(items, (item) => {
    const done = isDone(item, resume);
    // Only this shard's: the others' URLs are not this run's to skip (run-mode.ts drops them).
    if (done && (!shard || inShard(item, shard))) input.skipped++;
    return !done;
  });
}

/** What is said after a run: the URLs not started (at a stop, or during start-up), and what --resume skipped. */
async function afterRun(
  summary: RunSummary | null,
  stop: StopReason | null,
  r: { sources: Source[]; o: RunOptions; s: Session; resume: ResumeState | null; input: InputTally; given: () => number | null },
): Promise<void> {
  const { sources, o, s, resume } = r;
  if (summary?.notStarted?.more && countable(sources)) await countNotStarted(summary, sources, r.given(), keeper(o, resume));
  if (summary === null && (stop === 'SIGINT' || stop === 'SIGTERM')) {
    const count = r.given() ?? (countable(sources) ? await countJobs(sources, 64 * 1024 * 1024).catch(() => null) : null);
    s.err.line(startupStopLine(o.mode, stop, count));
  }
  if (resume?.exists) s.err.line(resumeNote(resume, r.input.skipped));
}

/** A run that fetched nothing: fine for a shard or a finished --resume (exit 0), a usage error otherwise. */
function emptyRun(o: RunOptions, s: Session, input: InputTally): Outcome {
  if (input.read > 0 && !input.unreadable) {
    s.err.line(
      input.skipped > 0
        ? 'fetchall: nothing left to fetch: every URL already has an ok record'
        : `fetchall: nothing to fetch in shard ${o.shard?.k}/${o.shard?.n}: all ${input.read} input lines fall in other shards`,
    );
    return s.finish({});
  }
  if (input.unreadable) return s.finish({ usage: true });
  s.err.line('fetchall: nothing to fetch: the input held no URLs');
  return s.finish({ nothingToFetch: true });
}

/**
 * The total for the progress line: counted by a second, streaming pass while the run goes on,
 * only over URLs and regular files. A pipe, FIFO or stdin is read once, so its total stays unknown.
 * Returns what the count found so far.
 */
function countGiven(sources: Source[], progress: ProgressSink | null, keep: (item: InputItem) => boolean): () => number | null {
  let given: number | null = null;
  if (progress && countable(sources)) {
    countJobs(sources, Number.POSITIVE_INFINITY, keep).then(
      (n) => {
        given = n;
        progress.total = n;
      },
      () => {},
    );
  }
  return () => given;
}

/** Input left unread after a stop: count what was given, where it can be read again cheaply. */
async function countNotStarted(
  summary: RunSummary,
  sources: Source[],
  known: number | null,
  keep: (item: InputItem) => boolean,
): Promise<void> {
  const given = known ?? (await countJobs(sources, 64 * 1024 * 1024, keep).catch(() => null));
  if (given !== null) summary.notStarted = { count: Math.max(0, given - summary.total), more: false };
}

/** The HTML report, its renderer loaded only when asked for (most runs want none). */
async function writeRunReport(path: string, o: RunOptions, summary: RunSummary, stop: StopReason | null, s: Session): Promise<boolean> {
  const { runReport, writeReport } = await import('./html-report.js');
  return writeReport(path, runReport(o, summary, stop), s.err);
}

/** Which items this run fetches: its shard's, less those --resume skips. */
function keeper(o: RunOptions, resume: ResumeState | null): (item: InputItem) => boolean {
  const { shard } = o;
  return (item) => (!shard || inShard(item, shard)) && !(resume && isDone(item, resume));
}

function isDone(item: InputItem, resume: ResumeState): boolean {
  return item.kind === 'job' && resume.done.has(item.job.url);
}

/** The items, counted as they are read: a plain iterator, as a generator layer costs a promise and more per URL. */
function counting(items: AsyncIterable<InputItem>, input: { read: number }): AsyncIterable<InputItem> {
  return {
    [Symbol.asyncIterator]() {
      const inner = items[Symbol.asyncIterator]();
      const count = (r: IteratorResult<InputItem>) => {
        if (!r.done) input.read++;
        return r;
      };
      return {
        next: () => inner.next().then(count),
        return: (value?: unknown) => inner.return?.(value) ?? Promise.resolve({ done: true as const, value: undefined }),
      };
    },
  };
}

/**
 * The --resume file read before the run. When it is also stdout (`>> FILE`), records are appended
 * to it: a last line cut off (a killed run) is ended first, so the next record is a whole line.
 */
async function startResume(file: string, term: Terminal, err: Out, out: Out): Promise<ResumeState> {
  const output = sameFile(file, (term.stdout as { fd?: number }).fd);
  const resume = await loadResume(file);
  const name = escapeControls(file);
  if (!resume.exists) err.line(`fetchall: --resume ${name}: no such file yet, so nothing to skip`);
  if (output === 'overwrite') {
    err.line(`fetchall: --resume ${name} is also stdout, opened with > rather than >>: the shell emptied it before the run`);
  }
  if (output !== 'no' && resume.endsMidLine) out.partial('\n');
  return resume;
}

function resumeNote(r: ResumeState, skipped: number): string {
  const unreadable = r.unreadable > 0 ? ` (${r.unreadable} line${r.unreadable === 1 ? '' : 's'} there not records, ignored)` : '';
  return `fetchall: --resume ${escapeControls(r.file)}: skipped ${skipped} URL${skipped === 1 ? '' : 's'} already ok there${unreadable}`;
}
