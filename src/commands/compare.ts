// `fetchall compare`: the same list, the same options, each mode in turn; then the table and verdict.

import { randomBytes } from 'node:crypto';
import { accessSync, constants, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Mode } from '../engines/types.js';
import { type InputItem, readJobs, type Source } from '../input.js';
import type { RunSummary } from '../measure/stats.js';
import { type RunOptions, UsageError } from '../options.js';
import { compareTable, METRICS, type ModeRuns, meanSd, verdicts } from '../render/compare.js';
import { escapeControls, jsonText } from '../render/escape.js';
import { type Out, reason } from '../render/write.js';
import type { StopReason } from '../signals.js';
import { EXIT_WRITE, exitCodeFor, fetchOnce, report, session, type Terminal } from './fetch.js';

export interface CompareOptions {
  modes: Mode[];
  runs: number;
  json: string | null;
}

export interface CompareResult {
  modes: ModeRuns[];
  stop: StopReason | null;
}

async function* replay(items: InputItem[]): AsyncGenerator<InputItem> {
  yield* items;
}

/** Every run of every mode, in rounds (m1, m2, m1, m2 …) so slow drift hits each mode alike. */
export async function runComparison(
  items: InputItem[],
  o: RunOptions,
  c: CompareOptions,
  term: Terminal,
  ctl: AbortController,
  out: Out,
  err: Out,
  hooks: { before?: () => Promise<void>; after?: (mode: Mode, summary: RunSummary) => Promise<void> } = {},
): Promise<CompareResult> {
  const results: ModeRuns[] = c.modes.map((mode) => ({ mode, runs: [] }));
  let header = true;
  let badReported = false;
  for (let round = 1; round <= c.runs; round++) {
    for (const entry of results) {
      if (ctl.signal.aborted) return { modes: results, stop: ctl.signal.reason as StopReason };
      const mode = entry.mode as Mode;
      const text = o.format === 'text';
      const title = `── ${mode}${c.runs > 1 ? ` (run ${round}/${c.runs})` : ''} ──`;
      if (text) out.line(`${header ? '' : '\n'}${term.paint.bold(title)}`);
      await hooks.before?.();
      const { summary, stop } = await fetchOnce(replay(items), o, mode, term, ctl, {
        out,
        // Bad lines are reported once, not once per run.
        badLines: badReported ? null : err,
        knownTotal: { value: items.length },
        header,
      });
      badReported = true;
      header = false;
      if (summary) {
        entry.runs.push(summary);
        if (text && stop === null) report(summary, o, term, out, err, stop);
        if (stop === null) await hooks.after?.(mode, summary);
      }
      if (stop) return { modes: results, stop };
    }
  }
  return { modes: results, stop: null };
}

function exportable(s: RunSummary) {
  const { spans: _spans, inFlight: _inFlight, ...figures } = s;
  return figures;
}

/** A comparison has modes, not a mode. */
function withoutMode(o: RunOptions): Omit<RunOptions, 'mode'> {
  const { mode: _mode, ...rest } = o;
  return rest;
}

export function comparisonJson(result: CompareResult, o: RunOptions, c: CompareOptions, urls: number) {
  return {
    tool: 'fetchall',
    date: new Date().toISOString(),
    urls,
    options: { ...withoutMode(o), modes: c.modes, runs: c.runs },
    interrupted: result.stop,
    modes: result.modes.map((m) => ({
      mode: m.mode,
      runs: m.runs.map(exportable),
      mean: Object.fromEntries(METRICS.map((x) => [x.label, meanSd(m.runs.map(x.get))])),
    })),
    verdict: verdicts(result.modes),
  };
}

/**
 * compare runs one list in every mode, so it holds the list; past these it is a usage error
 * (fetch streams a list of any length). Both bound memory: the count, and the text for long lines.
 */
export const MAX_COMPARE_URLS = 1_000_000;
export const MAX_COMPARE_CHARS = 100_000_000;

export async function compareCommand(sources: Source[], o: RunOptions, c: CompareOptions, term: Terminal): Promise<number> {
  const { ctl, out, err, unhook, status } = session(term, o.format === 'text' || c.modes.includes('inline'));
  try {
    // A target that cannot be written is known before minutes of fetching, not after.
    const unwritable = c.json === null ? null : checkWritable(c.json);
    if (c.json !== null && unwritable) {
      err.line(`fetchall: cannot write --json file '${escapeControls(c.json)}': ${reason(unwritable)}`);
      return status(EXIT_WRITE);
    }
    // Each mode must see the same list, so compare reads it whole (fetch alone streams it).
    const items: InputItem[] = [];
    let chars = 0;
    for await (const item of readJobs(sources)) {
      items.push(item);
      chars += item.kind === 'job' ? item.job.url.length : item.text.length;
      // Leaving the loop ends the read at once (the source is closed, stdin included).
      if (items.length > MAX_COMPARE_URLS || chars > MAX_COMPARE_CHARS) {
        throw new UsageError(
          `compare: the list is too long (over ${MAX_COMPARE_URLS.toLocaleString('en-US')} URLs or ${MAX_COMPARE_CHARS / 1e6} MB): compare holds its list to run it in every mode; fetch streams a list of any length`,
        );
      }
    }
    if (items.length === 0) throw new UsageError('nothing to fetch: the input held no URLs');
    const result = await runComparison(items, o, c, term, ctl, out, err);
    const failed = result.modes.reduce((n, m) => n + m.runs.reduce((k, s) => k + s.failed, 0), 0);
    // The report first: a failed export must not hide it.
    if (result.stop !== 'EPIPE') printVerdict(result, o, term, out, err);
    await out.drain();
    let code = exitCodeFor({ failed, stop: result.stop });
    if (c.json !== null) {
      try {
        writeAtomically(c.json, `${jsonText(comparisonJson(result, o, c, items.length), 2)}\n`);
      } catch (e) {
        err.line(`fetchall: cannot write --json file '${escapeControls(c.json)}': ${reason(e as NodeJS.ErrnoException)}`);
        // A signal's status stands, as for any other failed write.
        if (result.stop !== 'SIGINT' && result.stop !== 'SIGTERM') code = EXIT_WRITE;
      }
    }
    return status(code);
  } finally {
    unhook();
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
    accessSync(dir, constants.W_OK);
    return null;
  } catch (e) {
    return e as NodeJS.ErrnoException;
  }
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
  try {
    writeFileSync(tmp, text, { flag: 'wx' });
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

export function printVerdict(result: CompareResult, o: RunOptions, term: Terminal, out: Out, err: Out): void {
  const toStdout = o.format === 'text' && result.stop === null;
  if (!toStdout && o.quiet) return;
  const target = toStdout ? out : err;
  const paint = toStdout ? term.paint : term.errPaint;
  const done = result.modes.filter((m) => m.runs.length > 0);
  if (done.length === 0) return;
  target.line(`\n${paint.bold('Comparison')}${result.stop ? paint.yellow(`  (interrupted by ${result.stop}: partial)`) : ''}`);
  target.line(compareTable(done, paint));
  const v = verdicts(done);
  if (v.length > 0) target.line('');
  for (const line of v) target.line(paint.bold(line.text));
}
