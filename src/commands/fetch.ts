// `fetchall [options] [source...]`: sources → one mode → live lines or records → timeline and summary.

import type { UsageError } from '../core/errors.js';
import type { Outcome } from '../exit.js';
import { countable, countJobs, readJobs, type Source } from '../input.js';
import type { RunSummary } from '../measure/stats.js';
import type { RunOptions } from '../options.js';
import { escapeControls } from '../render/escape.js';
import { BadLinesSink } from '../sinks/bad-lines.js';
import { ProgressSink } from '../sinks/progress.js';
import { ReportSink } from '../sinks/report.js';
import type { Sink } from '../sinks/types.js';
import { outputSink, progressWanted, runMode, startupStopLine } from './run-mode.js';
import { session, type Terminal } from './session.js';

export async function fetchCommand(sources: Source[], o: RunOptions, term: Terminal): Promise<Outcome> {
  const s = session(term, o.format === 'text' || o.mode === 'inline');
  try {
    const progress = progressWanted(o, term) ? new ProgressSink(s.err) : null;
    const given = countGiven(sources, progress);
    const sinks = [new BadLinesSink(s.err), progress, outputSink(o, s, true)].filter((x): x is Sink => x !== null);
    // A source that cannot be read is said at once, as a missing file is, and ends the run as a usage error.
    let unreadable = false;
    const onUnreadable = (e: UsageError) => {
      unreadable = true;
      s.err.line(`fetchall: ${escapeControls(e.message)}`);
    };
    const { summary, ...run } = await runMode({
      items: readJobs(sources, process.stdin, s.ctl.signal, onUnreadable),
      options: o,
      mode: o.mode,
      session: s,
      sinks,
    });
    // A signal handled only as the engine closed (inline blocks the loop) is still a stop.
    const stop = run.stop ?? s.stopped();
    if (summary?.notStarted?.more && countable(sources)) await countNotStarted(summary, sources, given());
    if (summary === null && (stop === 'SIGINT' || stop === 'SIGTERM')) {
      const count = given() ?? (countable(sources) ? await countJobs(sources, 64 * 1024 * 1024).catch(() => null) : null);
      s.err.line(startupStopLine(o.mode, stop, count));
    }
    if (summary && summary.total === 0 && stop === null) {
      if (unreadable) return s.finish({ usage: true });
      s.err.line('fetchall: nothing to fetch: the input held no URLs');
      return s.finish({ nothingToFetch: true });
    }
    // Records first: a stdout that cannot take them is known before the report, which then stays
    // unprinted. So the report is handed the summary here, once the run is settled, not by the scheduler.
    await s.out.drain();
    if (summary && stop !== 'EPIPE' && !s.out.error) new ReportSink(s, o, term).onEnd(summary, stop);
    await s.out.drain();
    return s.finish({ failed: summary?.failed ?? 0, stop, usage: unreadable });
  } finally {
    s.unhook();
  }
}

/**
 * The total for the progress line: counted by a second, streaming pass while the run goes on,
 * only over URLs and regular files. A pipe, FIFO or stdin is read once, so its total stays unknown.
 * Returns what the count found so far.
 */
function countGiven(sources: Source[], progress: ProgressSink | null): () => number | null {
  let given: number | null = null;
  if (progress && countable(sources)) {
    countJobs(sources).then(
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
async function countNotStarted(summary: RunSummary, sources: Source[], known: number | null): Promise<void> {
  const given = known ?? (await countJobs(sources, 64 * 1024 * 1024).catch(() => null));
  if (given !== null) summary.notStarted = { count: Math.max(0, given - summary.total), more: false };
}
