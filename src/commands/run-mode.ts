// One mode over one list: the engine started (with a notice for a slow pool), the sinks told
// when the run starts and ends, and the run itself. Used by fetch, and per mode and run by compare.

import { now } from '../core/clock.js';
import { FatalError } from '../core/errors.js';
import type { Engine, EngineInfo, Mode } from '../core/types.js';
import { newSaveClaims } from '../engines/save.js';
import { filterItems, type InputItem } from '../input.js';
import type { RunSummary } from '../measure/stats.js';
import type { RunOptions } from '../options.js';
import { shortPoolNotice } from '../render/notices.js';
import { CLEAR_LINE } from '../render/progress.js';
import { createEngine } from '../scheduler/engines.js';
import { type RunConfig, runJobs } from '../scheduler/run.js';
import { inShard } from '../shard.js';
import type { StopReason } from '../signals.js';
import { LinesSink } from '../sinks/lines.js';
import type { ProgressPlan } from '../sinks/progress.js';
import { RecordsSink } from '../sinks/records.js';
import type { Sink, StatusLine } from '../sinks/types.js';
import { watchOutputDir } from '../tempfiles.js';
import type { Session, Terminal } from './session.js';

export interface ModeRun {
  items: AsyncIterable<InputItem>;
  options: RunOptions;
  mode: Mode;
  session: Session;
  sinks: Sink[];
}

export interface RunOutcome {
  /** null when stopped before the engine was ready. */
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
    rate: o.rate ?? null,
    perHostRate: o.perHostRate ?? null,
    request: {
      method: o.method,
      headers: o.headers,
      userAgent: o.userAgent,
      timeoutMs: o.timeoutMs,
      maxRedirects: o.maxRedirects,
      maxSize: o.maxSize,
      outputDir: o.outputDir,
      saveClaims: o.outputDir === null ? null : newSaveClaims(),
      body: o.body,
      proxy: o.proxy,
      insecure: o.insecure,
      cacert: o.cacert,
      work: o.work,
    },
  };
}

/** Run one mode; the session's controller is shared, so one Ctrl-C stops a whole comparison. */
export async function runMode(r: ModeRun): Promise<RunOutcome> {
  const { session: s, sinks } = r;
  const config = toRunConfig(r.options, r.mode);
  if (r.options.outputDir !== null) watchOutputDir(r.options.outputDir);
  const engine = await createEngine(config);
  let summary: RunSummary | null = null;
  try {
    const info = await startEngine(engine, r);
    if (info === null || s.ctl.signal.aborted) return { summary: null, stop: s.stopped() };
    if (info.short) s.err.line(shortPoolNotice(r.mode, info.short));
    const origin = now();
    for (const sink of sinks) sink.onStart?.(origin);
    const setup = { startupMs: info.startupMs, threads: info.threads };
    const { shard } = r.options;
    // A shard is a filter on the input: indexes stay the whole list's, so merged shards sort back.
    const items = shard ? filterItems(r.items, (item) => inShard(item, shard)) : r.items;
    summary = await runJobs({ items, engine, config, sinks, signal: s.ctl.signal, setup });
    return { summary, stop: s.stopped() };
  } finally {
    for (const sink of sinks) sink.close?.();
    // Stopping a pool and its helper processes is part of what a user waits for (compare's end to end).
    const t0 = now();
    await engine.close();
    if (summary) summary.shutdownMs = now() - t0;
  }
}

/** The engine ready, or null when stopped first. A pool takes seconds: say so on a terminal, and let Ctrl-C cut it short. */
async function startEngine(engine: Engine, r: ModeRun): Promise<EngineInfo | null> {
  const { err, ctl, term } = r.session;
  const starting = r.mode === 'threads' && term.stderrIsTTY && !r.options.quiet;
  if (starting) err.partial(`starting ${r.options.concurrency} worker threads and their sync-request helpers…`);
  const init = engine.init();
  init.catch(() => {});
  // Stopped already (while the engine's code loaded): 'abort' will not fire again.
  const stopped = new Promise<null>((resolve) =>
    ctl.signal.aborted ? resolve(null) : ctl.signal.addEventListener('abort', () => resolve(null), { once: true }),
  );
  try {
    return await Promise.race([init, stopped]);
  } catch (e) {
    throw new FatalError(`cannot start ${r.mode} mode: ${String((e as Error)?.message ?? e).split('\n')[0]}`);
  } finally {
    if (starting) err.partial(CLEAR_LINE);
  }
}

/**
 * The one line for a run stopped by a signal before its engine was ready (a pool takes seconds),
 * which otherwise ends with nothing said: `notStarted` is the URLs given, or null when unknown.
 */
export function startupStopLine(mode: Mode, sig: 'SIGINT' | 'SIGTERM', notStarted: number | null): string {
  const what = { threads: 'the threads pool', processes: 'the processes pool', inline: "inline mode's relay", async: 'async mode' }[mode];
  const urls = notStarted === null || notStarted === 0 ? 'no URL started' : `${notStarted} URL${notStarted === 1 ? '' : 's'} not started`;
  return `fetchall: interrupted by ${sig} during start-up of ${what}: ${urls}`;
}

/**
 * What shows the run as it goes on stdout: records for a machine format, else text lines (none
 * with -q), their URLs shortened to the terminal's width when stdout is one. `status`: a
 * progress line on the same terminal, kept below the lines.
 */
export function outputSink(o: RunOptions, s: Session, header: boolean, status: StatusLine | null = null): Sink | null {
  if (o.format !== 'text') return new RecordsSink(s.out, o.format, header && o.header, o.sort === 'index');
  return o.quiet ? null : new LinesSink(s.out, s.paint, { width: s.term.stdoutIsTTY ? s.term.columns : null, status });
}

/**
 * A live progress line only for a person watching a terminal on stderr, never in a pipe or CI:
 * when stdout goes elsewhere (a file, a pipe), or with -q in text (nothing else moves until the
 * summary). Records printed on the terminal are their own progress.
 */
export function progressWanted(o: RunOptions, term: Terminal): boolean {
  if (!term.stderrIsTTY || term.ci) return false;
  return !term.stdoutIsTTY || (o.quiet && o.format === 'text');
}

/**
 * fetch's rule: progressWanted's cases from the start; and text lines on the terminal once the
 * run is longer than the terminal has rows (counted, or started so far), drawn below the lines.
 */
export function progressPlan(o: RunOptions, term: Terminal): ProgressPlan | null {
  const columns = () => term.errColumns;
  if (progressWanted(o, term)) return { columns, after: 0 };
  const lines = o.format === 'text' && !o.quiet && term.stdoutIsTTY && term.stderrIsTTY && !term.ci;
  return lines ? { columns, after: term.rows } : null;
}
