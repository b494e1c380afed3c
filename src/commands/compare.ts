// `fetchall compare`: the same list, the same options, each mode in turn; then the table and verdict.

import { randomBytes } from 'node:crypto';
import { accessSync, closeSync, constants, openSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { UsageError } from '../core/errors.js';
import type { Mode } from '../core/types.js';
import type { Outcome } from '../exit.js';
import { type InputItem, readJobs, type Source } from '../input.js';
import type { RunSummary } from '../measure/stats.js';
import type { RunOptions } from '../options.js';
import { METRICS, type ModeRuns, meanSd, runFigures, verdicts } from '../render/compare.js';
import { escapeControls, jsonText } from '../render/escape.js';
import { reason } from '../render/write.js';
import type { StopReason } from '../signals.js';
import { BadLinesSink } from '../sinks/bad-lines.js';
import { Collector } from '../sinks/collector.js';
import { ProgressSink } from '../sinks/progress.js';
import { printComparison, ReportSink } from '../sinks/report.js';
import type { Sink } from '../sinks/types.js';
import { outputSink, progressWanted, runMode, startupStopLine } from './run-mode.js';
import { type Session, session, type Terminal } from './session.js';

export interface CompareOptions {
  modes: Mode[];
  runs: number;
  json: string | null;
}

/** What demo adds around each run: reset its server before, read the server's view after. */
export interface CompareHooks {
  before?: () => Promise<void>;
  after?: (mode: Mode, summary: RunSummary) => Promise<void>;
}

export async function compareCommand(sources: Source[], o: RunOptions, c: CompareOptions, term: Terminal): Promise<Outcome> {
  const s = session(term, o.format === 'text' || c.modes.includes('inline'));
  try {
    // A target that cannot be written is known before minutes of fetching, not after.
    const unwritable = c.json === null ? null : checkWritable(c.json);
    if (c.json !== null && unwritable) {
      s.err.line(`fetchall: cannot write --json file '${escapeControls(c.json)}': ${reason(unwritable)}`);
      return s.finish({ writeFailed: true });
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
    if (stop !== 'EPIPE') printComparison(s, o, collector.modes, stop);
    await s.out.drain();
    const exported = c.json === null || exportJson(s, c.json, comparisonJson(collector.modes, stop, o, c, items.length));
    return s.finish({ failed: collector.failed(), stop, writeFailed: !exported, usage: unreadable });
  } finally {
    s.unhook();
  }
}

/** The options of a comparison as exported: snake_case, units in the names, modes rather than a mode. */
function optionsJson(o: RunOptions, c: CompareOptions) {
  return {
    modes: c.modes,
    runs: c.runs,
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

/** The `--json` export (schema in the README): every run's figures, and each figure's mean and σ per mode. */
export function comparisonJson(modes: ModeRuns[], stop: StopReason | null, o: RunOptions, c: CompareOptions, urls: number) {
  return {
    tool: 'fetchall',
    date: new Date().toISOString(),
    urls,
    options: optionsJson(o, c),
    interrupted: stop,
    modes: modes.map((m) => ({
      mode: m.mode,
      runs: m.runs.map(runFigures),
      mean: Object.fromEntries(
        METRICS.map((x) => {
          const { mean, sd } = meanSd(m.runs.map(x.get));
          return [x.key, { mean, sd }];
        }),
      ),
    })),
    verdict: verdicts(modes),
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

async function* replay(items: InputItem[]): AsyncGenerator<InputItem> {
  yield* items;
}

/** Every run of every mode, in rounds (m1, m2, m1, m2 …) so slow drift hits each mode alike. Returns the stop, if any. */
export async function runComparison(
  items: InputItem[],
  o: RunOptions,
  c: Pick<CompareOptions, 'modes' | 'runs'>,
  s: Session,
  collector: Collector,
  hooks: CompareHooks = {},
): Promise<StopReason | null> {
  let first = true;
  for (let round = 1; round <= c.runs; round++) {
    for (const mode of c.modes) {
      if (s.ctl.signal.aborted) return s.stopped();
      const title = `── ${mode}${c.runs > 1 ? ` (run ${round}/${c.runs})` : ''} ──`;
      if (o.format === 'text') s.out.line(`${first ? '' : '\n'}${s.paint.bold(title)}`);
      await hooks.before?.();
      const sinks = runSinks(o, s, first, items.length, collector.sinkFor(mode));
      first = false;
      const { summary, stop } = await runMode({ items: replay(items), options: o, mode, session: s, sinks });
      if (summary === null && (stop === 'SIGINT' || stop === 'SIGTERM')) s.err.line(startupStopLine(mode, stop, items.length));
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
    progressWanted(o, s.term) ? new ProgressSink(s.err, total) : null,
    outputSink(o, s, first),
    collect,
    // Each finished run's timeline and summary in text; a stopped one is shown in the table.
    o.format === 'text' ? new ReportSink(s, o, s.term, true) : null,
  ];
  return sinks.filter((x): x is Sink => x !== null);
}

/** Write the export; false (after one line on stderr) when it could not be written. */
function exportJson(s: Session, path: string, value: unknown): boolean {
  try {
    writeAtomically(path, `${jsonText(value, 2)}\n`);
    return true;
  } catch (e) {
    s.err.line(`fetchall: cannot write --json file '${escapeControls(path)}': ${reason(e as NodeJS.ErrnoException)}`);
    return false;
  }
}

/** Why `path` cannot be written (its directory missing or read-only), or null when it looks writable. */
function checkWritable(path: string): NodeJS.ErrnoException | null {
  try {
    const st = statSync(path, { throwIfNoEntry: false });
    if (st && !st.isFile()) {
      if (st.isDirectory()) return Object.assign(new Error('is a directory'), { code: 'EISDIR' });
      accessSync(path, constants.W_OK);
      return null;
    }
    const dir = dirname(path);
    if (!statSync(dir).isDirectory()) return Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
    // The export is a new file renamed over the target, so it is the directory that must be writable.
    try {
      accessSync(dir, constants.W_OK);
    } catch (e) {
      throw st ? tempFileError(dir, e as NodeJS.ErrnoException) : e;
    }
    return null;
  } catch (e) {
    return e as NodeJS.ErrnoException;
  }
}

/** Why the temp file beside an existing target could not be made, naming its directory. */
function tempFileError(dir: string, e: NodeJS.ErrnoException): Error {
  return new Error(`cannot create a temporary file in ${escapeControls(dir)}: ${reason(e)}`);
}

/**
 * A regular file (or a new one) gets a temp file in its directory renamed over it, so a reader
 * never sees half an export and a failure leaves the old file whole. Anything else (/dev/stdout,
 * a FIFO, /dev/full) cannot be renamed over: written directly, and a failure is reported.
 */
function writeAtomically(path: string, text: string): void {
  const st = statSync(path, { throwIfNoEntry: false });
  if (st && !st.isFile()) {
    writeFileSync(path, text);
    return;
  }
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  let fd: number;
  try {
    fd = openSync(tmp, 'wx');
  } catch (e) {
    // The target exists; it is its temp file that cannot be made (/proc/version): say that, not ENOENT.
    throw tempFileError(dirname(path), e as NodeJS.ErrnoException);
  }
  try {
    try {
      writeFileSync(fd, text);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}
