// `fetchall [options] [source...]`: sources → one mode → live lines or records → timeline and summary.

import type { Outcome } from '../exit.js';
import { countable, countJobs, readJobs, type Source } from '../input.js';
import type { RunSummary } from '../measure/stats.js';
import type { RunOptions } from '../options.js';
import { BadLinesSink } from '../sinks/bad-lines.js';
import { FailuresSink } from '../sinks/failures.js';
import { ProgressSink } from '../sinks/progress.js';
import { ReportSink } from '../sinks/report.js';
import type { Sink } from '../sinks/types.js';
import { outputSink, progressPlan, runMode } from './run-mode.js';
import { session, type Terminal } from './session.js';

export async function fetchCommand(sources: Source[], o: RunOptions, term: Terminal): Promise<Outcome> {
  const s = session(term, o.format === 'text' || o.mode === 'inline');
  try {
    const plan = progressPlan(o, term);
    const progress = plan ? new ProgressSink(s.err, null, plan) : null;
    const given = countGiven(sources, progress);
    const sinks = [
      new BadLinesSink(s.err, progress),
      progress,
      o.quiet ? new FailuresSink(s.err, progress) : null,
      outputSink(o, s, true, progress),
    ].filter((x): x is Sink => x !== null);
    const { summary, ...run } = await runMode({
      items: readJobs(sources, process.stdin, s.ctl.signal),
      options: o,
      mode: o.mode,
      session: s,
      sinks,
    });
    // A signal handled only as the engine closed (inline blocks the loop) is still a stop.
    const stop = run.stop ?? s.stopped();
    if (summary?.notStarted?.more && countable(sources)) await countNotStarted(summary, sources, given());
    if (summary && summary.total === 0 && stop === null) {
      s.err.line('fetchall: nothing to fetch: the input held no URLs');
      return s.finish({ nothingToFetch: true });
    }
    // Records first: a stdout that cannot take them is known before the report, which then stays
    // unprinted. So the report is handed the summary here, once the run is settled, not by the scheduler.
    await s.out.drain();
    if (summary && stop !== 'EPIPE' && !s.out.error) new ReportSink(s, o, term).onEnd(summary, stop);
    await s.out.drain();
    return s.finish({ failed: summary?.failed ?? 0, failedBy: summary?.failedBy ?? null, failOn: o.failOn, stop });
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
