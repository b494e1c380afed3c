// `fetchall compare`: the same list, the same options, each mode in turn; then the table and verdict.

import { UsageError } from '../core/errors.js';
import type { Mode } from '../core/types.js';
import type { Outcome } from '../exit.js';
import { type InputItem, readJobs, type Source } from '../input.js';
import type { RunSummary } from '../measure/stats.js';
import type { RunOptions } from '../options.js';
import {
  BASES,
  costVerdicts,
  csvExport,
  METRICS,
  type ModeRuns,
  markdownExport,
  outliers,
  relative,
  runFigures,
  spread,
  verdicts,
} from '../render/compare.js';
import { escapeControls, jsonText } from '../render/escape.js';
import { describeStream, Out, reason, writeFailure } from '../render/write.js';
import type { StopReason } from '../signals.js';
import { BadLinesSink } from '../sinks/bad-lines.js';
import { Collector } from '../sinks/collector.js';
import { FdLimitSink } from '../sinks/fd-limit.js';
import { ProgressSink } from '../sinks/progress.js';
import { printComparison, ReportSink, reportTarget } from '../sinks/report.js';
import { SpanCollector } from '../sinks/spans.js';
import type { Sink } from '../sinks/types.js';
import { checkWritable, writeAtomically } from './files.js';
import { comparisonReport, writeReport } from './html-report.js';
import { outputSink, progressWanted, runMode, startupStopLine } from './run-mode.js';
import { type Session, session, type Terminal } from './session.js';

export interface CompareOptions {
  modes: Mode[];
  runs: number;
  /** Uncounted runs of each mode first (module loading, caches, the first connections). */
  warmup: number;
  /** The exports; `-` writes that one to stdout (then the report goes to stderr). */
  json: string | null;
  exportMarkdown: string | null;
  exportCsv: string | null;
  /** Write the HTML report here (checked writable by the CLI before the run); null = none. */
  report: string | null;
}

/** An export's flag, target and text. */
interface Export {
  flag: '--json' | '--export-markdown' | '--export-csv';
  path: string;
  text: (modes: ModeRuns[], stop: StopReason | null, urls: number) => string;
}

/** What demo adds around each run: reset its server before, read the server's view after. */
export interface CompareHooks {
  before?: () => Promise<void>;
  after?: (mode: Mode, summary: RunSummary) => Promise<void>;
}

export async function compareCommand(sources: Source[], o: RunOptions, c: CompareOptions, term: Terminal): Promise<Outcome> {
  const exports = exportsOf(o, c);
  const toStdout = exports.find((x) => x.path === '-');
  if (toStdout && o.format !== 'text') {
    throw new UsageError({
      flag: toStdout.flag,
      value: '-',
      reason: `stdout would carry both the export and the ${o.format} records: write one of them to a file`,
    });
  }
  // An export on stdout owns it: everything else a comparison prints goes to stderr.
  const view: Terminal = toStdout ? { ...term, stdout: term.stderr, stdoutIsTTY: term.stderrIsTTY, paint: term.errPaint } : term;
  const s = session(view, o.format === 'text' || c.modes.includes('inline'));
  try {
    // A target that cannot be written is known before minutes of fetching, not after: a usage
    // error (exit 2), as --report's; a failure when writing after the run stays an output error (74).
    for (const x of exports) {
      const unwritable = x.path === '-' ? null : checkWritable(x.path);
      if (unwritable) throw new UsageError({ flag: null, reason: `cannot write ${x.flag} file '${x.path}': ${reason(unwritable)}` });
    }
    // A source that cannot be read is said once, as a missing file is; the rest is compared, and the status is a usage error's.
    let unreadable = false;
    const items = await readList(sources, (e) => {
      unreadable = true;
      s.err.line(`fetchall: ${escapeControls(e.message)}`);
    });
    if (items.length === 0) return s.finish({ usage: true });
    const collector = new Collector(c.modes);
    const stop = await runComparison(items, o, c, s, collector);
    // The report first: a failed export must not hide it.
    if (stop !== 'EPIPE') printComparison(s, o, collector.modes, stop, { warmup: c.warmup, warmupsDone: collector.warmups });
    await s.out.drain();
    let exported = true;
    for (const x of exports) {
      const text = x.text(collector.modes, stop, items.length);
      exported = (x.path === '-' ? await writeStdout(s, term, text) : exportFile(s, x.flag, x.path, text)) && exported;
    }
    const title = `fetchall compare: ${items.length} URLs, modes ${c.modes.join(', ')}`;
    const reported = c.report === null || writeReport(c.report, comparisonReport(title, o, collector.modes, stop), s.err);
    return s.finish({
      failed: collector.failed(),
      failedBy: collector.failedBy(),
      failOn: o.failOn,
      stop,
      writeFailed: !exported || !reported,
      usage: unreadable,
    });
  } finally {
    s.unhook();
  }
}

/** The exports asked for, each with its renderer; at most one of them on stdout. */
function exportsOf(o: RunOptions, c: CompareOptions): Export[] {
  const all: (Export | null)[] = [
    c.json === null
      ? null
      : {
          flag: '--json',
          path: c.json,
          text: (modes, stop, urls) => `${jsonText(comparisonJson(modes, stop, o, c, urls), 2)}\n`,
        },
    c.exportMarkdown === null
      ? null
      : { flag: '--export-markdown', path: c.exportMarkdown, text: (modes) => `${markdownExport(done(modes))}\n` },
    c.exportCsv === null ? null : { flag: '--export-csv', path: c.exportCsv, text: (modes) => `${csvExport(done(modes))}\n` },
  ];
  const list = all.filter((x): x is Export => x !== null);
  const dashes = list.filter((x) => x.path === '-');
  if (dashes.length > 1) {
    throw new UsageError({ flag: dashes[1]!.flag, value: '-', reason: `${dashes[0]!.flag} already writes to stdout` });
  }
  return list;
}

const done = (modes: ModeRuns[]) => modes.filter((m) => m.runs.length > 0);

/** The options of a comparison as exported: snake_case, units in the names, modes rather than a mode. */
function optionsJson(o: RunOptions, c: CompareOptions) {
  return {
    modes: c.modes,
    runs: c.runs,
    warmup: c.warmup,
    concurrency: o.concurrency,
    per_host: o.perHost,
    timeout_ms: o.timeoutMs,
    retries: o.retries,
    retry_max_wait_ms: o.retryMaxWaitMs,
    max_redirects: o.maxRedirects,
    method: o.method,
    headers: o.headers,
    user_agent: o.userAgent,
    max_size_bytes: o.maxSize,
    output_dir: o.outputDir,
    format: o.format,
    quiet: o.quiet,
    timeline: o.timeline,
    color: o.color,
  };
}

/**
 * The `--json` export (schema in the README): every run's figures; per mode each figure's mean,
 * σ, min and max and the mode's time relative to the best; the verdicts and any outlier run.
 */
export function comparisonJson(modes: ModeRuns[], stop: StopReason | null, o: RunOptions, c: CompareOptions, urls: number) {
  const ran = done(modes);
  const rel = Object.fromEntries(BASES.map((b) => [b.basis, relative(ran, b.get)]));
  return {
    tool: 'fetchall',
    date: new Date().toISOString(),
    urls,
    options: optionsJson(o, c),
    interrupted: stop,
    modes: modes.map((m) => ({
      mode: m.mode,
      runs: m.runs.map(runFigures),
      partial_runs: (m.partial ?? []).map(runFigures),
      mean: Object.fromEntries(
        METRICS.map((x) => {
          const { mean, sd, min, max } = spread(m.runs.map(x.get));
          return [x.key, { mean, sd, min, max }];
        }),
      ),
      relative: Object.fromEntries(BASES.map((b) => [b.basis, rel[b.basis]![ran.indexOf(m)] ?? null])),
    })),
    verdict: verdicts(ran),
    cost_verdict: costVerdicts(ran),
    outliers: outliers(ran),
  };
}

/**
 * compare runs one list in every mode, so it holds the list; past these it is a usage error
 * (fetch streams a list of any length). Both bound memory: the count, and the text for long lines.
 */
export const MAX_COMPARE_URLS = 1_000_000;
export const MAX_COMPARE_CHARS = 100_000_000;

/** Each mode must see the same list, so compare reads it whole (fetch alone streams it). */
async function readList(sources: Source[], onUnreadable: (e: UsageError) => void): Promise<InputItem[]> {
  const items: InputItem[] = [];
  let chars = 0;
  let unreadable = false;
  const unread = (e: UsageError) => {
    unreadable = true;
    onUnreadable(e);
  };
  for await (const item of readJobs(sources, process.stdin, undefined, unread)) {
    items.push(item);
    chars += item.kind === 'job' ? item.job.url.length : item.text.length;
    // Leaving the loop ends the read at once (the source is closed, stdin included).
    if (items.length > MAX_COMPARE_URLS || chars > MAX_COMPARE_CHARS) {
      const limit = `over ${MAX_COMPARE_URLS.toLocaleString('en-US')} URLs or ${MAX_COMPARE_CHARS / 1e6} MB`;
      throw new UsageError({
        flag: null,
        reason: `compare: the list is too long (${limit}): compare holds its list to run it in every mode; fetch streams a list of any length`,
      });
    }
  }
  // Empty after a source that could not be read: that line said why; the caller ends as a usage error.
  if (items.length === 0 && !unreadable) throw new UsageError({ flag: null, reason: 'nothing to fetch: the input held no URLs' });
  return items;
}

const jobCount = (items: InputItem[]) => items.reduce((n, x) => n + (x.kind === 'job' ? 1 : 0), 0);

async function* replay(items: InputItem[]): AsyncGenerator<InputItem> {
  yield* items;
}

/**
 * Every run of every mode, in rounds (m1, m2, m1, m2 …) so slow drift hits each mode alike, after
 * `warmup` uncounted rounds. Returns the stop, if any.
 */
export async function runComparison(
  items: InputItem[],
  o: RunOptions,
  c: Pick<CompareOptions, 'modes' | 'runs' | 'report'> & { warmup?: number },
  s: Session,
  collector: Collector,
  hooks: CompareHooks = {},
): Promise<StopReason | null> {
  const warmup = c.warmup ?? 0;
  if (warmup > 0) {
    if (!o.quiet) {
      const note = `warming up: ${warmup} run${warmup > 1 ? 's' : ''} of each mode first, not counted`;
      reportTarget(s, o.format, null).out.line(s.paint.dim(note));
    }
    for (let round = 1; round <= warmup; round++) {
      for (const mode of c.modes) {
        if (s.ctl.signal.aborted) return s.stopped();
        await hooks.before?.();
        const { stop } = await runMode({ items: replay(items), options: { ...o, quiet: true }, mode, session: s, sinks: [] });
        if (stop) return stop;
        collector.warmups++;
      }
    }
  }
  let first = true;
  for (let round = 1; round <= c.runs; round++) {
    for (const mode of c.modes) {
      if (s.ctl.signal.aborted) return s.stopped();
      const title = `── ${mode}${c.runs > 1 ? ` (run ${round}/${c.runs})` : ''} ──`;
      // -q: the table and verdicts only, so no run is announced.
      if (o.format === 'text' && !o.quiet) s.out.line(`${first ? '' : '\n'}${s.paint.bold(title)}`);
      await hooks.before?.();
      const bars = c.report === null ? null : new SpanCollector();
      const sinks = runSinks(o, s, first, items.length, collector.sinkFor(mode, bars));
      first = false;
      const { summary, stop } = await runMode({ items: replay(items), options: o, mode, session: s, sinks });
      if (summary === null && (stop === 'SIGINT' || stop === 'SIGTERM')) s.err.line(startupStopLine(mode, stop, items.length));
      // compare read the whole list first: what a stop left unstarted is known, not "input not read to the end".
      if (summary?.interrupted) summary.notStarted = { count: Math.max(0, jobCount(items) - summary.total), more: false };
      if (summary && stop === null) await hooks.after?.(mode, summary);
      if (stop) return stop;
    }
  }
  return null;
}

/** One run's sinks. Bad lines are reported once, not once per run; a csv/tsv header likewise. */
function runSinks(o: RunOptions, s: Session, first: boolean, total: number, collect: Sink): Sink[] {
  const sinks = [
    first ? new BadLinesSink(s.err) : null,
    new FdLimitSink(s.err, o.concurrency),
    progressWanted(o, s.term) ? new ProgressSink(s.err, total, { columns: () => s.term.errColumns, after: 0 }) : null,
    outputSink(o, s, first),
    collect,
    // Each finished run's timeline and summary in text (not with -q); a stopped one is shown in the table.
    o.format === 'text' && !o.quiet ? new ReportSink(s, o, s.term, true) : null,
  ];
  return sinks.filter((x): x is Sink => x !== null);
}

/** Write an export atomically; false (after one line on stderr) when it could not be written. */
function exportFile(s: Session, flag: Export['flag'], path: string, text: string): boolean {
  try {
    writeAtomically(path, text);
    return true;
  } catch (e) {
    s.err.line(`fetchall: cannot write ${flag} file '${escapeControls(path)}': ${reason(e as NodeJS.ErrnoException)}`);
    return false;
  }
}

/** `--json -`: the export alone on stdout; false (after one line) when stdout failed. A reader gone is no failure. */
async function writeStdout(s: Session, term: Terminal, text: string): Promise<boolean> {
  const out = new Out(term.stdout, true, 'stdout');
  const onError = (e: NodeJS.ErrnoException) => out.fail(e);
  term.stdout.on('error', onError);
  try {
    out.partial(text);
    await out.drain();
    // A pipe says it failed by an event, a tick later.
    await new Promise((resolve) => setImmediate(resolve));
  } finally {
    term.stdout.off('error', onError);
  }
  if (out.error) s.err.line(writeFailure(describeStream('stdout', term.stdout), out.error));
  return out.error === null;
}
