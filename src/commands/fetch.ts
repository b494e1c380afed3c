// The fetch command: sources → engine → live lines or records → timeline and summary.

import type { Writable } from 'node:stream';
import { newSaveClaims } from '../engines/common.js';
import type { Mode } from '../engines/types.js';
import { countable, countJobs, type InputItem, readJobs, type Source } from '../input.js';
import { now } from '../measure/clock.js';
import type { RunSummary } from '../measure/stats.js';
import { FatalError, type Format, type RunOptions } from '../options.js';
import { escapeControls } from '../render/escape.js';
import { eventLine } from '../render/lines.js';
import type { Paint } from '../render/paint.js';
import { CLEAR_LINE, progressLine } from '../render/progress.js';
import { csv, csvHeader, ndjson, tsv, tsvHeader } from '../render/records.js';
import { summaryText } from '../render/summary.js';
import { timeline } from '../render/timeline.js';
import { describeStream, Out, writeFailure } from '../render/write.js';
import { createEngine } from '../scheduler/engines.js';
import { type RunConfig, runJobs } from '../scheduler/run.js';
import { EXIT_FOR, type StopReason, stopOnSignals } from '../signals.js';
import type { Sink } from '../sinks/types.js';

/** Where output goes and what the terminal is like: decided once, at the edge. */
export interface Terminal {
  stdout: Writable;
  stderr: Writable;
  stdoutIsTTY: boolean;
  stderrIsTTY: boolean;
  columns: number;
  rows: number;
  paint: Paint;
  errPaint: Paint;
  ci: boolean;
}

export interface RunOutcome {
  summary: RunSummary | null;
  stop: StopReason | null;
}

export function toRunConfig(o: RunOptions, mode: Mode = o.mode): RunConfig {
  return {
    mode,
    // inline runs one request at a time whatever -c says: that is its lesson. Queuing more
    // would only make them wait inside the blocked loop.
    concurrency: mode === 'inline' ? 1 : o.concurrency,
    perHost: o.perHost,
    retries: o.retries,
    retryMaxWaitMs: o.retryMaxWaitMs,
    request: {
      method: o.method,
      headers: o.headers,
      userAgent: o.userAgent,
      timeoutMs: o.timeoutMs,
      maxRedirects: o.maxRedirects,
      maxSize: o.maxSize,
      outputDir: o.outputDir,
      saveClaims: o.outputDir === null ? null : newSaveClaims(),
    },
  };
}

const RECORD_WRITERS: Record<Exclude<Format, 'text'>, { header: string | null; row: typeof ndjson }> = {
  ndjson: { header: null, row: ndjson },
  csv: { header: csvHeader, row: csv },
  tsv: { header: tsvHeader, row: tsv },
};

/**
 * One mode over one list, with live output. Used by `fetchall` itself and, once per mode and
 * run, by `compare`. `stop` is shared so one Ctrl-C stops a whole comparison.
 */
export async function fetchOnce(
  items: AsyncIterable<InputItem>,
  o: RunOptions,
  mode: Mode,
  term: Terminal,
  ctl: AbortController,
  io: { out: Out; badLines: Out | null; knownTotal: { value: number | null }; header: boolean },
): Promise<RunOutcome> {
  const { out } = io;
  const config = toRunConfig(o, mode);
  const engine = await createEngine(config);
  let summary: RunSummary | null = null;
  let progressTimer: NodeJS.Timeout | null = null;
  try {
    let info: Awaited<ReturnType<typeof engine.init>> | null;
    // A pool takes seconds to start: say so on a terminal, and let Ctrl-C cut it short.
    const starting = mode === 'threads' && term.stderrIsTTY && !o.quiet;
    if (starting) term.stderr.write(`starting ${o.concurrency} worker threads and their sync-request helpers…`);
    const init = engine.init();
    init.catch(() => {});
    const stopped = new Promise<null>((resolve) => ctl.signal.addEventListener('abort', () => resolve(null), { once: true }));
    try {
      info = await Promise.race([init, stopped]);
    } catch (err) {
      throw new FatalError(`cannot start ${mode} mode: ${String((err as Error)?.message ?? err).split('\n')[0]}`);
    } finally {
      if (starting) term.stderr.write(CLEAR_LINE);
    }
    if (info === null || ctl.signal.aborted) return { summary: null, stop: ctl.signal.reason as StopReason };
    const text = o.format === 'text';
    const writer = o.format === 'text' ? null : RECORD_WRITERS[o.format];
    if (writer?.header && io.header) out.line(writer.header);
    const origin = now();
    let done = 0;
    let inFlight = 0;
    const showProgress = progressWanted(o, term);
    if (showProgress) {
      progressTimer = setInterval(() => {
        term.stderr.write(CLEAR_LINE + progressLine({ done, total: io.knownTotal.value, inFlight, elapsedMs: now() - origin }));
      }, 200);
      progressTimer.unref();
    }
    const sink: Sink = {
      onEvent(e) {
        if (e.kind === 'fail' && e.record.error?.code === 'BAD_INPUT') io.badLines?.line(escapeControls(e.record.error.message));
        // A URL is in flight from its first attempt to its record, backoff included.
        if (e.kind === 'start') {
          if (e.attempt === 1) inFlight++;
        } else {
          done++;
          if (e.record.attempts > 0) inFlight = Math.max(0, inFlight - 1);
        }
        if (text) {
          if (!o.quiet) out.line(eventLine(e, origin, term.paint));
        } else if (e.kind !== 'start') out.line(writer!.row(e.record));
      },
    };
    summary = await runJobs({
      items,
      engine,
      config,
      sinks: [sink],
      signal: ctl.signal,
      setup: { startupMs: info.startupMs, threads: info.threads },
    });
    return { summary, stop: ctl.signal.aborted ? (ctl.signal.reason as StopReason) : null };
  } finally {
    if (progressTimer) {
      clearInterval(progressTimer);
      term.stderr.write(CLEAR_LINE);
    }
    await engine.close();
  }
}

/** A live progress line only for a person watching stderr while stdout goes elsewhere. */
function progressWanted(o: RunOptions, term: Terminal): boolean {
  return !term.stdoutIsTTY && term.stderrIsTTY && !term.ci && !o.quiet;
}

/** Timeline and summary for one finished run, to the right stream for the format. */
export function report(summary: RunSummary, o: RunOptions, term: Terminal, out: Out, err: Out, stop: StopReason | null): void {
  const toStdout = o.format === 'text' && stop === null;
  const target = toStdout ? out : err;
  const paint = toStdout ? term.paint : term.errPaint;
  if (o.format !== 'text' && o.quiet) return;
  if (o.format === 'text' && o.timeline && !o.quiet && stop === null) {
    const chart = timeline(summary, { width: term.columns, maxBars: Math.max(20, term.rows - 12), paint });
    if (chart) target.line(`\n${chart}`);
  }
  target.line(`${o.format === 'text' && !o.quiet ? '\n' : ''}${summaryText(summary, paint)}`);
}

export function exitCodeFor(outcome: { failed: number; stop: StopReason | null }): number {
  if (outcome.stop) return EXIT_FOR[outcome.stop];
  return outcome.failed > 0 ? 1 : 0;
}

/** `fetchall [options] [source...]`: returns the exit status. */
export async function fetchCommand(sources: Source[], o: RunOptions, term: Terminal): Promise<number> {
  const { ctl, out, err, unhook, status } = session(term, o.format === 'text' || o.mode === 'inline');
  // The total for the progress line: counted by a second, streaming pass while the run goes on,
  // only over URLs and regular files. A pipe, FIFO or stdin is read once, so its total stays unknown.
  const knownTotal: { value: number | null } = { value: null };
  if (progressWanted(o, term) && countable(sources)) {
    countJobs(sources).then(
      (n) => {
        knownTotal.value = n;
      },
      () => {},
    );
  }
  try {
    const outcome = await fetchOnce(readJobs(sources, process.stdin, ctl.signal), o, o.mode, term, ctl, {
      out,
      badLines: err,
      knownTotal,
      header: true,
    });
    const { summary } = outcome;
    // A signal handled only as the engine closed (inline blocks the loop) is still a stop.
    const stop = outcome.stop ?? (ctl.signal.aborted ? (ctl.signal.reason as StopReason) : null);
    if (summary?.notStarted?.more && countable(sources)) {
      // Input left unread after a stop: count what was given, where it can be read again cheaply.
      const given = knownTotal.value ?? (await countJobs(sources, 64 * 1024 * 1024).catch(() => null));
      if (given !== null) summary.notStarted = { count: Math.max(0, given - summary.total), more: false };
    }
    if (summary && summary.total === 0 && stop === null) {
      err.line('fetchall: nothing to fetch: the input held no URLs');
      return status(2);
    }
    // Records first: a stdout that cannot take them is known before the report, which then stays unprinted.
    await out.drain();
    if (summary && stop !== 'EPIPE' && !out.error) report(summary, o, term, out, err, stop);
    await out.drain();
    return status(exitCodeFor({ failed: summary?.failed ?? 0, stop }));
  } finally {
    unhook();
  }
}

/** What `session` gives every command. */
export interface Session {
  ctl: AbortController;
  out: Out;
  err: Out;
  unhook: () => void;
  /**
   * The exit status once output is done: a failed write (not EPIPE) makes it 74, after one line
   * on stderr naming the target (when stderr can take it). A signal's status stands.
   */
  status: (code: number) => number;
}

/**
 * What every command sets up: the stop controller, stdout/stderr writers, and the ways a run is
 * stopped (signals, a closed or failing stdout). `live`: write each line at once rather than batching.
 */
export function session(term: Terminal, live: boolean): Session {
  const ctl = new AbortController();
  const out = new Out(term.stdout, live, 'stdout');
  const err = new Out(term.stderr, true, 'stderr');
  // stdout carries the product: once it takes no more, stop. 'EPIPE' is the stop reason for both
  // a reader gone and a failed write (no report follows either); out.error tells them apart.
  out.onClose = () => {
    if (!ctl.signal.aborted) ctl.abort('EPIPE');
  };
  // A failing stderr loses only diagnostics: the run goes on, and exits 74 at the end.
  watchPipe(term.stdout, out);
  watchPipe(term.stderr, err);
  const status = (code: number): number => {
    if (out.error) err.line(writeFailure(describeStream('stdout', term.stdout), out.error));
    if (code === EXIT_FOR.SIGINT || code === EXIT_FOR.SIGTERM) return code;
    return out.error || err.error ? EXIT_WRITE : code;
  };
  return { ctl, out, err, unhook: stopOnSignals(ctl), status };
}

/** Exit status when output cannot be written (BSD's EX_IOERR). */
export const EXIT_WRITE = 74;

/** Write errors that arrive as events (a pipe or socket), not thrown: EPIPE stops quietly. */
function watchPipe(stream: Writable, out: Out): void {
  stream.on('error', (e: NodeJS.ErrnoException) => out.fail(e));
}
